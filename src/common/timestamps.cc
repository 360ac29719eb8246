#include "common/timestamps.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace l2a::common {
namespace {

std::tm utcOf(std::time_t t) {
  std::tm utc{};
  gmtime_r(&t, &utc);
  return utc;
}

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", utcOf(std::chrono::system_clock::to_time_t(t)));
}

std::string rfc3339Micros(std::chrono::system_clock::time_point t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", utcOf(static_cast<std::time_t>(micros / 1000000)),
                     micros % 1000000);
}

}  // namespace l2a::common

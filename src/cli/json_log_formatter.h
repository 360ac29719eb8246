// JsonLogFormatter: spdlog formatter for --log-format json. Log messages here are key=value
// pairs ("event=announcing address=198.18.0.1 interfaces=\"eth0 aa:bb\""); each becomes a field
// of one JSON object per line, with time and level. Stateless; spdlog calls it under its lock.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace l2a::cli {

// "a=1 b=\"x y\"" -> {{"a","1"},{"b","x y"}}; text that is not key=value goes under "msg".
std::vector<std::pair<std::string, std::string>> splitKeyValues(std::string_view text);

class JsonLogFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLogFormatter>(); }
};

}  // namespace l2a::cli

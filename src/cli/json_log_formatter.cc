#include "cli/json_log_formatter.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace l2a::cli {

std::vector<std::pair<std::string, std::string>> splitKeyValues(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  std::string loose;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t start = i;
    while (i < text.size() && text[i] != '=' && text[i] != ' ') ++i;
    if (i >= text.size() || text[i] != '=' || i == start) {
      loose += std::string(text.substr(start, i - start)) + " ";
      continue;
    }
    std::string key(text.substr(start, i - start));
    ++i;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i++];
      }
      ++i;
    } else {
      while (i < text.size() && text[i] != ' ') value += text[i++];
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  if (!loose.empty()) {
    loose.pop_back();
    out.emplace_back("msg", loose);
  }
  return out;
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  nlohmann::json line;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  line["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", utc, micros % 1000000);
  line["level"] = std::string(spdlog::level::to_string_view(msg.level).data(), spdlog::level::to_string_view(msg.level).size());
  for (auto& [k, v] : splitKeyValues(std::string_view(msg.payload.data(), msg.payload.size()))) line[k] = v;
  std::string text = line.dump() + "\n";
  dest.append(text.data(), text.data() + text.size());
}

}  // namespace l2a::cli

// WatchDecoder: splits a watch stream (one JSON event per line, chunks cut anywhere) into
// WatchEvents. Pure; one per stream, one thread. Lines that are not a JSON object with a string
// "type" are counted in malformed() and skipped.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "kube/client.h"

namespace l2a::kube {

class WatchDecoder {
 public:
  void feed(std::string_view chunk, const std::function<void(WatchEvent)>& onEvent) {
    buffer_.append(chunk);
    size_t start = 0;
    for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
      decodeLine(std::string_view(buffer_).substr(start, nl - start), onEvent);
    }
    buffer_.erase(0, start);
  }
  size_t malformed() const { return malformed_; }
  size_t pendingBytes() const { return buffer_.size(); }

 private:
  void decodeLine(std::string_view line, const std::function<void(WatchEvent)>& onEvent) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
      ++malformed_;
      return;
    }
    // The object moved out of the parsed line, not copied (a tree per event).
    WatchEvent event{j["type"].get<std::string>(), j.contains("object") ? std::move(j["object"]) : Json()};
    onEvent(std::move(event));
  }
  std::string buffer_;
  size_t malformed_ = 0;
};

}  // namespace l2a::kube

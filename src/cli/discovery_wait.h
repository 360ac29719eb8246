// waitForDiscovery: runs a discovery (which optional kinds the API server serves) until it
// answers, for the agent and the operator at start-up. A failure that is not "not installed" —
// a 403 naming the missing permission, an outage — is logged once per distinct message and
// handed to `report` (for /readyz), then retried after `pause()`; never taken for a missing
// kind. Blocks the calling thread; returns nothing when `pause()` says to stop (false).
#pragma once

#include <spdlog/spdlog.h>

#include <functional>
#include <optional>
#include <string>

#include "common/result.h"

namespace l2a::cli {

template <typename T>
std::optional<T> waitForDiscovery(const std::function<Result<T>()>& discover,
                                  const std::function<void(const std::string&)>& report,
                                  const std::function<bool()>& pause) {
  std::string last;
  while (true) {
    Result<T> found = discover();
    if (found) {
      report("");
      return std::move(found).value();
    }
    if (found.error().message != last) {
      last = found.error().message;
      spdlog::error("event=discovery_failed error=\"{}\"", last);
    }
    report("discovery failed: " + last);
    if (!pause()) return std::nullopt;
  }
}

}  // namespace l2a::cli

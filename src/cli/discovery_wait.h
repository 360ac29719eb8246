// waitForDiscovery: runs a discovery (which optional kinds the API server serves) until it
// answers, for the agent and the operator at start-up. A failure that is not "not installed" —
// a 403 naming the missing permission, an outage — is logged once per distinct message and
// handed to `report` (for /readyz), then retried after `pause(wait)`: 250 ms, doubled each time
// up to 5 s (an API server that has just taken the CRDs or the RBAC answers a moment later; one
// that is down is not hammered); never taken for a missing kind. Blocks the calling thread;
// returns nothing when `pause()` says to stop (false).
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/result.h"

namespace l2a::cli {

template <typename T>
std::optional<T> waitForDiscovery(const std::function<Result<T>()>& discover,
                                  const std::function<void(const std::string&)>& report,
                                  const std::function<bool(std::chrono::milliseconds)>& pause) {
  std::string last;
  std::chrono::milliseconds wait{250};
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
    if (!pause(wait)) return std::nullopt;
    wait = std::min(wait * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace l2a::cli

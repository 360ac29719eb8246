// FaultPlan: the faults the lab injects into Kubernetes API requests — an error status (429
// with Retry-After) or a delay, for a while, for every request or for one verb — set through
// `POST /admin/fault` of the lab API server and of the fault proxy in front of kube-apiserver.
// Thread-safe; time is passed in.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "common/result.h"

namespace l2a::lab {

class FaultPlan {
 public:
  using Clock = std::chrono::steady_clock;
  struct Decision {
    int status = 0;  // 0: let the request through (after `delay`)
    int retryAfterSeconds = 0;
    std::chrono::milliseconds delay{0};
  };

  // From /admin/fault's query parameters: mode (error|delay|none), verb, status, retryAfter,
  // delayMs, seconds. A bad mode is an error and changes nothing.
  Status<> set(const std::function<std::string(const char*)>& param, Clock::time_point now);
  Decision decide(const std::string& verb, Clock::time_point now) const;

 private:
  mutable std::mutex mutex_;
  std::string mode_;  // "", "error", "delay"
  std::string verb_;  // "" = every verb
  int status_ = 500;
  int retryAfterSeconds_ = 0;
  int delayMs_ = 0;
  Clock::time_point until_{};
};

// The verb of a request as Kubernetes names it (get — lists too —, watch, create, update,
// patch, delete), from its method and whether its query asks for a watch.
std::string requestVerb(const std::string& method, bool watch);

}  // namespace l2a::lab

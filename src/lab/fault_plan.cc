#include "lab/fault_plan.h"

#include <cstdlib>

namespace l2a::lab {

Status<> FaultPlan::set(const std::function<std::string(const char*)>& param, Clock::time_point now) {
  auto number = [&](const char* name, int fallback) {
    std::string v = param(name);
    return v.empty() ? fallback : std::atoi(v.c_str());
  };
  std::string mode = param("mode");
  if (mode != "error" && mode != "delay" && mode != "none") {
    return fail("bad_request", "mode must be error, delay or none");
  }
  std::lock_guard lock(mutex_);
  mode_ = mode == "none" ? "" : mode;
  verb_ = param("verb");
  status_ = number("status", 500);
  retryAfterSeconds_ = number("retryAfter", 0);
  delayMs_ = number("delayMs", 0);
  until_ = now + std::chrono::seconds(number("seconds", 5));
  return Ok{};
}

FaultPlan::Decision FaultPlan::decide(const std::string& verb, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (mode_.empty() || now >= until_ || (!verb_.empty() && verb_ != verb)) return {};
  if (mode_ == "delay") return {.delay = std::chrono::milliseconds(delayMs_)};
  return {.status = status_, .retryAfterSeconds = retryAfterSeconds_};
}

std::string requestVerb(const std::string& method, bool watch) {
  if (method == "GET") return watch ? "watch" : "get";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  return "delete";
}

}  // namespace l2a::lab

// TokenBucket: the client-side rate limit (QPS with a burst), as client-go's flowcontrol.
// Pure: time comes in as arguments. Not thread-safe; the Client guards it with its lock.
#pragma once

#include <algorithm>
#include <chrono>

namespace l2a::kube {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double qps, int burst) : qps_(qps), burst_(std::max(burst, 1)), tokens_(burst_) {}

  // Takes one token; returns how long the caller must wait before using it (zero when free).
  Clock::duration reserve(Clock::time_point now) {
    if (qps_ <= 0) return Clock::duration::zero();  // unlimited
    if (started_) {
      double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
    }
    started_ = true;
    last_ = now;
    tokens_ -= 1;
    if (tokens_ >= 0) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / qps_));
  }

 private:
  double qps_;
  int burst_;
  double tokens_;
  bool started_ = false;
  Clock::time_point last_;
};

}  // namespace l2a::kube

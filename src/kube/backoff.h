// Backoff: exponential backoff with jitter, as client-go's reflector waits between failed lists
// and watches (800 ms doubling to 30 s, each wait stretched by up to 100 % at random, back to the
// start after a quiet while). The randomness is injected, so the strategy is tested with fakes.
// Not thread-safe: one per retrying loop.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>

namespace l2a::kube {

class Backoff {
 public:
  struct Options {
    std::chrono::milliseconds initial{800};
    std::chrono::milliseconds max{30000};
    double factor = 2.0;
    double jitter = 1.0;  // each wait is base * (1 + jitter * random()), random() in [0, 1)
  };
  // `random` returns a number in [0, 1); default: a seeded generator of its own.
  explicit Backoff(Options options, std::function<double()> random = {})
      : options_(options), random_(std::move(random)) {
    if (!random_) {
      random_ = [engine = std::mt19937_64{std::random_device{}()}]() mutable {
        return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
      };
    }
  }
  Backoff() : Backoff(Options{}) {}

  // The next wait: the base grows by `factor` each time (up to `max`), with jitter on top.
  std::chrono::milliseconds next() {
    double base = static_cast<double>(current_.count());
    current_ = std::min(options_.max, std::chrono::milliseconds(static_cast<long>(base * options_.factor)));
    if (current_ < options_.initial) current_ = options_.initial;
    return std::chrono::milliseconds(static_cast<long>(base * (1.0 + options_.jitter * random_())));
  }
  // After a success: the next failure waits `initial` again.
  void reset() { current_ = options_.initial; }

 private:
  Options options_;
  std::function<double()> random_;
  std::chrono::milliseconds current_ = options_.initial;
};

}  // namespace l2a::kube

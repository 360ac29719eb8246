// EventLoop: an epoll loop over file descriptors plus a wake-up eventfd. It creates no thread:
// run() executes in the caller's thread. add()/remove() are for that thread; wake() and stop()
// are safe from any thread and from signal handlers.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <unordered_map>

#include "common/result.h"

namespace l2a::net {

class EventLoop {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static Result<EventLoop> create();
  EventLoop(EventLoop&& other) noexcept;
  EventLoop& operator=(EventLoop&&) = delete;
  ~EventLoop();

  void add(int fd, std::function<void()> onReadable);
  void remove(int fd);
  void wake();
  void stop();
  // Runs until stop(). Before each wait, `beforeWait()` does timed work and says when it next
  // needs to run (nullopt: only when an fd is readable or wake() is called).
  void run(const std::function<std::optional<TimePoint>()>& beforeWait);

 private:
  EventLoop(int epollFd, int wakeFd) : epollFd_(epollFd), wakeFd_(wakeFd) {}
  int epollFd_;
  int wakeFd_;
  bool stopping_ = false;
  std::unordered_map<int, std::function<void()>> handlers_;
};

}  // namespace l2a::net

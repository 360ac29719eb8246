#include "net/event_loop.h"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace l2a::net {

Result<EventLoop> EventLoop::create() {
  int epollFd = epoll_create1(EPOLL_CLOEXEC);
  if (epollFd < 0) return fail("epoll", fmt::format("epoll_create1: {}", std::strerror(errno)));
  int wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakeFd < 0) {
    ::close(epollFd);
    return fail("epoll", fmt::format("eventfd: {}", std::strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wakeFd;
  epoll_ctl(epollFd, EPOLL_CTL_ADD, wakeFd, &ev);
  return EventLoop(epollFd, wakeFd);
}

EventLoop::EventLoop(EventLoop&& other) noexcept
    : epollFd_(other.epollFd_),
      wakeFd_(other.wakeFd_),
      stopping_(other.stopping_),
      handlers_(std::move(other.handlers_)) {
  other.epollFd_ = -1;
  other.wakeFd_ = -1;
}

EventLoop::~EventLoop() {
  if (epollFd_ >= 0) ::close(epollFd_);
  if (wakeFd_ >= 0) ::close(wakeFd_);
}

void EventLoop::add(int fd, std::function<void()> onReadable) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
  handlers_[fd] = std::move(onReadable);
}

void EventLoop::remove(int fd) {
  epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(fd);
}

void EventLoop::wake() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wakeFd_, &one, sizeof one);
  (void)ignored;
}

void EventLoop::stop() {
  std::atomic_ref<bool>(stopping_).store(true);
  wake();
}

void EventLoop::run(const std::function<std::optional<TimePoint>()>& beforeWait) {
  std::array<epoll_event, 64> events;
  while (!std::atomic_ref<bool>(stopping_).load()) {
    std::optional<TimePoint> deadline = beforeWait();
    int timeoutMs = -1;
    if (deadline) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(*deadline -
                                                               std::chrono::steady_clock::now());
      timeoutMs = static_cast<int>(std::max<int64_t>(0, wait.count()));
    }
    int n = epoll_wait(epollFd_, events.data(), static_cast<int>(events.size()), timeoutMs);
    for (int i = 0; i < n; ++i) {
      int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == wakeFd_) {
        uint64_t count;
        ssize_t ignored = ::read(wakeFd_, &count, sizeof count);
        (void)ignored;
        continue;
      }
      auto it = handlers_.find(fd);
      if (it != handlers_.end()) {
        auto handler = it->second;  // a handler may remove itself
        handler();
      }
    }
  }
}

}  // namespace l2a::net

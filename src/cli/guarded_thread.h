// guarded: the top of every long-running thread of l2a's agent and operator. Parsers and
// decisions never throw on data (a malformed object is invalid with a reason); an exception
// that still reaches a thread's top is a bug whose state cannot be trusted, so the process logs
// it once and exits with one clear line (status 70) for its supervisor to restart — instead of
// std::terminate's abort, or a thread silently gone while the others carry on.
#pragma once

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "cli/exit_codes.h"

namespace l2a::cli {

// The thread is named NAME (its first 15 bytes, as `top -H` and `ps -L` show it).
template <typename F>
auto guarded(std::string name, F body) {
  return [name = std::move(name), body = std::move(body)]() mutable {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    try {
      body();
    } catch (const std::exception& e) {
      spdlog::critical("event=thread_failed thread={} error=\"{}\"", name, e.what());
      spdlog::shutdown();
      fmt::print(stderr, "l2a: error: {} failed: {}\n", name, e.what());
      std::_Exit(kExitSoftware);
    }
  };
}

// The calling thread runs at NICE (Linux: nice is per thread): raising it needs no privilege.
// A failure is logged, not fatal — the thread only competes as before.
inline void yieldCpu(int nice) {
  if (nice == 0) return;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
    spdlog::warn("event=thread_nice_failed nice={} error=\"{}\"", nice, std::strerror(errno));
  }
}

// The calling thread is scheduled SCHED_RR at PRIORITY (0: left as it is): ahead of every
// normal thread of the node, as keepalived's VRRP thread can be. Needs CAP_SYS_NICE; a failure is
// logged, not fatal.
inline void realTime(int priority) {
  if (priority == 0) return;
  sched_param param{};
  param.sched_priority = priority;
  if (int error = pthread_setschedparam(pthread_self(), SCHED_RR, &param); error != 0) {
    spdlog::warn("event=thread_realtime_failed priority={} error=\"{}\" note=\"needs CAP_SYS_NICE\"", priority,
                 std::strerror(error));
    return;
  }
  spdlog::info("event=thread_realtime priority={}", priority);
}

}  // namespace l2a::cli

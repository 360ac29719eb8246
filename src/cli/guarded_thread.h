// guarded: the top of every long-running thread of l2a's agent and operator. Parsers and
// decisions never throw on data (a malformed object is invalid with a reason); an exception
// that still reaches a thread's top is a bug whose state cannot be trusted, so the process logs
// it once and exits with one clear line (status 70) for its supervisor to restart — instead of
// std::terminate's abort, or a thread silently gone while the others carry on.
#pragma once

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

#include "cli/exit_codes.h"

namespace l2a::cli {

template <typename F>
auto guarded(std::string name, F body) {
  return [name = std::move(name), body = std::move(body)]() mutable {
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

}  // namespace l2a::cli

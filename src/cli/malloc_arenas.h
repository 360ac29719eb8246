// The long-running commands' heap (agent, operator). glibc gives each thread that allocates
// an arena of its own, up to a limit (eight per core by default), and threads past it share
// one — waiting for each other on its lock.
// - The operator: two arenas. Its threads held freed temporaries of 10,000 Services in their
//   arenas (heaptrack; docs/benchmarks.md); small allocations still come from each thread's
//   cache without taking an arena's lock.
// - The agent: one arena per thread. With two, the packet thread shared an arena — and its
//   lock — with the nice-10 threads planning 10,000 addresses; preempted while holding it, they
//   held the packet thread's heartbeats back (priority inversion: glibc's locks inherit no
//   priority). At 20 × 10,000 that made hundreds of false silences in minutes; one arena per
//   thread, four. What the arenas hold once freed goes back at the heap trims (agent.cc).
// MALLOC_ARENA_MAX in the environment wins.
#pragma once

#include <malloc.h>

#include <cstdlib>

namespace l2a::cli {

constexpr int kOperatorMallocArenas = 2;
constexpr int kAgentMallocArenas = 64;  // more than the agent's threads (about 24)

// Call before any thread starts.
inline void limitMallocArenas(int arenas) {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, arenas);
}

}  // namespace l2a::cli

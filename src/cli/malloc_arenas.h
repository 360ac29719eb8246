// The long-running commands' heap (agent, operator). glibc gives each thread that allocates
// an arena of its own (up to eight per core) and keeps what is freed in it: an agent's two
// dozen threads held about 50 MiB of freed plan temporaries beside an 18 MiB live heap at
// 10,000 Services (heaptrack; docs/benchmarks.md). Two arenas are enough; small allocations
// still come from each thread's cache without taking an arena's lock. MALLOC_ARENA_MAX in the
// environment wins.
#pragma once

#include <malloc.h>

#include <cstdlib>

namespace l2a::cli {

// Call before any thread starts.
inline void limitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
}

}  // namespace l2a::cli

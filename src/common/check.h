// CHECK: crashes loudly on a state the program's logic rules out (never for bad input).
// Bad input and expected failures are values (see result.h), not CHECKs.
#pragma once

#include <cstdio>
#include <cstdlib>

#define L2A_CHECK(cond)                                                                \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

#include "cli/guarded_thread.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace l2a::cli {
namespace {

// An exception that reaches a thread's top ends the process with one line and status 70 — not
// std::terminate's abort (a core dump and a crash loop), not a thread silently gone.
TEST(GuardedThreadDeathTest, AnExceptionAtAThreadsTopExitsWithOneClearLine) {
  EXPECT_EXIT(
      {
        std::thread t(guarded("reconcile loop", [] { throw std::runtime_error("boom"); }));
        t.join();
      },
      ::testing::ExitedWithCode(kExitSoftware), "l2a: error: reconcile loop failed: boom");
}

TEST(GuardedThread, ABodyThatReturnsJustReturns) {
  int ran = 0;
  guarded("informer", [&] { ++ran; })();
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace l2a::cli

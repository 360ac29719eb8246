#include "cli/responder_host.h"

#include <gtest/gtest.h>

namespace l2a::cli {
namespace {

using namespace std::chrono_literals;
using Steady = responder::Clock;
using Wall = std::chrono::system_clock;

// Heartbeats are read when the packet thread turns, up to an interval after they arrived: each
// counts at the kernel's time of arrival, or a peer would look heard later than it was and its
// silence be found that much late.
TEST(ResponderHost, AHeartbeatCountsWhenItArrivedNotWhenItWasRead) {
  Steady::time_point now = Steady::time_point(100s), lastDrain = now - 40ms;
  Wall::time_point wallNow = Wall::time_point(1'800'000'000s);
  EXPECT_EQ(ResponderHost::arrivalTime(now, wallNow, wallNow - 30ms, lastDrain), now - 30ms);
  EXPECT_EQ(ResponderHost::arrivalTime(now, wallNow, wallNow, lastDrain), now);
}

// The wall clock may step (NTP) between the arrival and the read: a frame read now was not
// queued at the last read, and did not arrive after now — an hour's step must not make a live
// peer look an hour silent.
TEST(ResponderHost, AWallClockStepCannotPutAnArrivalBeforeTheLastReadOrAfterNow) {
  Steady::time_point now = Steady::time_point(100s), lastDrain = now - 40ms;
  Wall::time_point wallNow = Wall::time_point(1'800'000'000s);
  EXPECT_EQ(ResponderHost::arrivalTime(now, wallNow, wallNow - 1h, lastDrain), lastDrain);
  EXPECT_EQ(ResponderHost::arrivalTime(now, wallNow, wallNow + 1h, lastDrain), now);
}

}  // namespace
}  // namespace l2a::cli

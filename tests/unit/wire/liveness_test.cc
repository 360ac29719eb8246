#include "wire/liveness.h"

#include <gtest/gtest.h>

namespace l2a::wire {
namespace {

using namespace std::chrono_literals;

class LivenessTest : public ::testing::Test {
 protected:
  // Every heard peer sends every 40 ms; silence beyond 5 of them (200 ms) is wire-death.
  void hear(const std::string& node, std::vector<std::string> accused = {}, uint64_t incarnation = 1) {
    auto& seq = sequence_[node];
    live_.heard(Heartbeat{.node = node, .incarnation = incarnation, .sequence = ++seq, .intervalMs = 40,
                          .accused = std::move(accused)},
                "eth0", now_);
  }
  // Time passes in 40 ms steps; `talking` send on each, and we judge on each.
  void run(std::chrono::milliseconds span, const std::vector<std::string>& talking) {
    for (auto end = now_ + span; now_ < end;) {
      now_ += 40ms;
      for (const auto& n : talking) hear(n);
      live_.evaluate(now_);
    }
  }
  bool excluded(const std::string& node) { return live_.excluded(now_).count(node) > 0; }
  bool lastResort(const std::string& node) { return live_.lastResort(now_).count(node) > 0; }

  Clock::time_point now_ = Clock::time_point{} + 1000h;
  Liveness live_{"self", LivenessOptions{.misses = 5, .holdDown = 10s}, now_};
  std::map<std::string, uint64_t> sequence_;
};

TEST_F(LivenessTest, APeerSilentForMoreThanItsWindowIsExcluded) {
  run(400ms, {"a", "b"});
  EXPECT_FALSE(excluded("b"));
  run(160ms, {"a"});  // b silent for 160 ms: within 5 × 40 ms
  EXPECT_FALSE(excluded("b"));
  run(80ms, {"a"});  // 240 ms
  EXPECT_TRUE(excluded("b"));
  EXPECT_FALSE(excluded("a"));
  EXPECT_EQ(live_.peers().at("b").deadTransitions, 1u);
  EXPECT_EQ(live_.accused(now_), std::vector<std::string>{"b"});
}

TEST_F(LivenessTest, ANodeThatHearsNobodyJudgesNobody) {
  run(400ms, {"a", "b"});
  run(2s, {});  // we are the one cut off, or everyone died at once: the Leases decide
  EXPECT_TRUE(live_.isolated(now_));
  EXPECT_FALSE(excluded("a"));
  EXPECT_FALSE(excluded("b"));
}

TEST_F(LivenessTest, TwoNodesAloneLeaveItToTheLease) {
  run(400ms, {"a"});
  run(2s, {});  // our only peer fell silent: we cannot tell who is cut off
  EXPECT_FALSE(excluded("a"));
}

TEST_F(LivenessTest, AfterHearingNobodyItWaitsAWholeWindowBeforeJudging) {
  run(400ms, {"a", "b"});
  run(1s, {});  // isolated
  // Back: a is heard first, b a moment later (a queue drained in pieces) — b is not judged.
  now_ += 40ms;
  hear("a");
  live_.evaluate(now_);
  EXPECT_FALSE(excluded("b"));
  run(40ms, {"a", "b"});
  EXPECT_FALSE(excluded("b"));
  EXPECT_EQ(live_.peers().at("b").deadTransitions, 0u);
}

TEST_F(LivenessTest, NobodyIsJudgedInTheFirstWindowAfterStart) {
  hear("a");
  hear("b");
  now_ += 100ms;
  hear("a");
  live_.evaluate(now_);
  now_ += 150ms;  // b silent 250 ms, but we started 250 ms ago... and heard it at start
  hear("a");
  live_.evaluate(now_);
  EXPECT_TRUE(excluded("b"));  // a whole window passed since start: judged
  Liveness fresh{"self", LivenessOptions{.misses = 5}, now_};
  fresh.heard(Heartbeat{.node = "a", .incarnation = 1, .sequence = 1, .intervalMs = 40}, "eth0", now_);
  fresh.heard(Heartbeat{.node = "b", .incarnation = 1, .sequence = 1, .intervalMs = 40}, "eth0", now_ - 1s);
  fresh.evaluate(now_ + 100ms);
  EXPECT_TRUE(fresh.excluded(now_ + 100ms).empty());
}

TEST_F(LivenessTest, APeerBackFromSilenceIsHeldDownThenTakesPartAgain) {
  run(400ms, {"a", "b"});
  run(400ms, {"a"});
  ASSERT_TRUE(excluded("b"));
  run(1s, {"a", "b"});
  EXPECT_FALSE(excluded("b"));  // heard again: live, but held down — a last resort, no move back yet
  EXPECT_TRUE(lastResort("b"));
  EXPECT_EQ(live_.heldDown(now_), std::vector<std::string>{"b"});
  EXPECT_TRUE(live_.accused(now_).empty());
  run(8900ms, {"a", "b"});
  EXPECT_TRUE(lastResort("b"));
  run(200ms, {"a", "b"});  // 10 s since it was heard again
  EXPECT_FALSE(lastResort("b"));
  EXPECT_FALSE(excluded("b"));
  // A blip restarts the hold-down: a flapping node never pulls addresses back and forth.
  run(400ms, {"a"});
  run(40ms, {"a", "b"});
  EXPECT_TRUE(lastResort("b"));
  EXPECT_EQ(live_.peers().at("b").deadTransitions, 2u);
}

TEST_F(LivenessTest, WhatAHeardPeerAccusesIsExcludedByUsToo) {
  run(400ms, {"a", "b"});
  now_ += 40ms;
  hear("a", {"c", "self"});
  hear("b");
  EXPECT_TRUE(excluded("c"));     // we never heard c: a's word is enough
  EXPECT_TRUE(excluded("self"));  // we are accused: we take nothing
  // The accusation of a peer we no longer hear does not count.
  run(400ms, {"b"});
  EXPECT_FALSE(excluded("c"));
  EXPECT_FALSE(excluded("self"));
  EXPECT_TRUE(excluded("a"));
}

// Our own cable goes: a was last heard 30 ms before b. When a's window runs out b's has not yet,
// but nobody was heard after a's deadline: a is not judged (it was, at first, and our
// accusation then excluded a everywhere).
TEST_F(LivenessTest, PeersThatFallSilentTogetherAreNotJudgedOneByOne) {
  run(400ms, {"a", "b"});
  now_ += 10ms;
  hear("a");
  now_ += 30ms;
  hear("b");
  for (int i = 0; i < 100; ++i) {
    now_ += 5ms;
    live_.evaluate(now_);
    EXPECT_FALSE(excluded("a")) << i;
    EXPECT_FALSE(excluded("b")) << i;
  }
  EXPECT_EQ(live_.peers().at("a").deadTransitions, 0u);
}

TEST_F(LivenessTest, APeerWeHoldDownIsNotBelieved) {
  run(400ms, {"a", "b"});
  run(400ms, {"a"});
  ASSERT_TRUE(excluded("b"));
  now_ += 40ms;
  hear("a");
  hear("b", {"a"});  // back, and accusing a of what it missed
  EXPECT_FALSE(excluded("a"));
  EXPECT_TRUE(lastResort("b"));
}

TEST_F(LivenessTest, CountsRestartsAndMissedSequenceNumbers) {
  run(400ms, {"a", "b"});
  sequence_["a"] += 3;  // three frames lost
  run(40ms, {"a", "b"});
  EXPECT_EQ(live_.peers().at("a").missed, 3u);
  sequence_["a"] = 0;
  now_ += 40ms;
  hear("a", {}, 2);  // restarted: a new incarnation
  EXPECT_EQ(live_.peers().at("a").restarts, 1u);
  EXPECT_EQ(live_.peers().at("a").missed, 3u);
}

TEST_F(LivenessTest, APeerSilentForLongIsForgotten) {
  run(400ms, {"a", "b"});
  run(11min, {"a"});
  EXPECT_FALSE(live_.peers().count("b"));
  EXPECT_TRUE(live_.peers().count("a"));
}

// Two segments: our eth0 and eth1. Peers send on both every 40 ms; their own names for the
// interfaces there are eth0 and ens5.
class PortLivenessTest : public LivenessTest {
 protected:
  void hearOn(const std::string& node, const std::string& ourPort) {
    live_.heard(Heartbeat{.node = node, .port = ourPort == "eth1" ? "ens5" : "eth0", .incarnation = 1,
                          .sequence = ++sequence_[node], .intervalMs = 40},
                ourPort, now_);
  }
  // `talking`: node -> the ports of ours it is heard on.
  void runPorts(std::chrono::milliseconds span, const std::map<std::string, std::vector<std::string>>& talking) {
    for (auto end = now_ + span; now_ < end;) {
      now_ += 40ms;
      for (const auto& [node, ports] : talking) {
        for (const auto& port : ports) hearOn(node, port);
      }
      live_.evaluate(now_);
    }
  }
  const std::vector<std::string> both_{"eth0", "eth1"};
};

TEST_F(PortLivenessTest, APeerSilentOnOneSegmentButHeardOnAnotherLosesThatInterfaceOnly) {
  runPorts(400ms, {{"a", both_}, {"b", both_}});
  runPorts(160ms, {{"a", both_}, {"b", {"eth0"}}});
  EXPECT_FALSE(excluded("b/ens5"));  // within its window
  runPorts(80ms, {{"a", both_}, {"b", {"eth0"}}});
  EXPECT_TRUE(excluded("b/ens5"));
  EXPECT_FALSE(excluded("b"));  // the node is heard: it keeps what it announces elsewhere
  EXPECT_FALSE(excluded("b/eth0"));
  EXPECT_FALSE(excluded("a/ens5"));
  EXPECT_EQ(live_.accused(now_), std::vector<std::string>{"b/ens5"});  // others plan alike
}

TEST_F(PortLivenessTest, BackOnTheSegmentItIsHeldDownThereForTheHoldDownThenReturns) {
  runPorts(400ms, {{"a", both_}, {"b", both_}});
  runPorts(400ms, {{"a", both_}, {"b", {"eth0"}}});
  ASSERT_TRUE(excluded("b/ens5"));
  runPorts(40ms, {{"a", both_}, {"b", both_}});
  EXPECT_FALSE(excluded("b/ens5"));
  EXPECT_TRUE(lastResort("b/ens5"));
  EXPECT_EQ(live_.heldDown(now_), std::vector<std::string>{"b/ens5"});
  runPorts(10s, {{"a", both_}, {"b", both_}});
  EXPECT_FALSE(lastResort("b/ens5"));
  EXPECT_FALSE(excluded("b/ens5"));
}

TEST_F(PortLivenessTest, TheOnlyPeerOnASegmentIsNotJudgedThere) {
  runPorts(400ms, {{"a", both_}, {"b", {"eth0"}}});
  runPorts(1s, {{"a", {"eth0"}}, {"b", {"eth0"}}});  // a silent on eth1, nobody else there
  EXPECT_FALSE(excluded("a/ens5"));
}

TEST_F(PortLivenessTest, OurOwnCutOnASegmentJudgesNobodyThere) {
  runPorts(400ms, {{"a", both_}, {"b", both_}});
  runPorts(1s, {{"a", {"eth0"}}, {"b", {"eth0"}}});  // our eth1 is the one cut
  EXPECT_FALSE(excluded("a/ens5"));
  EXPECT_FALSE(excluded("b/ens5"));
  // Back: the first peer heard there does not make the others look silent until their next frame.
  now_ += 40ms;
  hearOn("a", "eth0");
  hearOn("b", "eth0");
  hearOn("a", "eth1");
  live_.evaluate(now_);
  EXPECT_FALSE(excluded("b/ens5"));
  runPorts(400ms, {{"a", both_}, {"b", both_}});
  EXPECT_FALSE(excluded("b/ens5"));
  EXPECT_FALSE(lastResort("b/ens5"));
}

TEST_F(PortLivenessTest, APeerSilentEverywhereIsJudgedAsANodeNotInterfaceByInterface) {
  runPorts(400ms, {{"a", both_}, {"b", both_}});
  runPorts(400ms, {{"a", both_}});
  EXPECT_TRUE(excluded("b"));
  EXPECT_EQ(live_.accused(now_), std::vector<std::string>{"b"});
  runPorts(40ms, {{"a", both_}, {"b", both_}});  // back: held down as a node
  EXPECT_TRUE(lastResort("b"));
  EXPECT_EQ(live_.heldDown(now_), std::vector<std::string>{"b"});
}

TEST_F(PortLivenessTest, APeersWordAboutAnInterfaceCountsForUs) {
  runPorts(400ms, {{"a", {"eth0"}}, {"b", {"eth0"}}});
  now_ += 40ms;
  live_.heard(Heartbeat{.node = "a", .port = "eth0", .incarnation = 1, .sequence = ++sequence_["a"], .intervalMs = 40,
                        .accused = {"b/ens5"}},
              "eth0", now_);
  EXPECT_TRUE(excluded("b/ens5"));  // we have no port on that segment; a does
  EXPECT_FALSE(excluded("b"));
}

}  // namespace
}  // namespace l2a::wire

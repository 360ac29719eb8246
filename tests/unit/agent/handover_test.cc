#include "agent/handover.h"

#include <gtest/gtest.h>

namespace l2a::agent {
namespace {

using namespace std::chrono_literals;

const std::string kA = "198.18.0.200";
const std::string kB = "2001:db8::200";

class HandoverTest : public ::testing::Test {
 protected:
  // One step of the loop: we should announce `ours` (the plan gives every other address in
  // `owners` elsewhere), with these conflicts, at now_.
  HandoverActions step(std::vector<std::string> ours, std::map<std::string, std::string> owners,
                       std::map<std::string, std::string> conflicts = {}, bool frozen = false) {
    HandoverInput in{.desired = {}, .owners = std::move(owners), .conflicts = std::move(conflicts),
                     .heardAnnouncing = [this](const std::string& node, const std::string& address) {
                       return listed_.count({node, address}) > 0;
                     },
                     .frozen = frozen, .now = now_};
    for (const auto& a : ours) in.desired[a] = {"^eth0$"};
    return handover_.step(in);
  }
  bool claimed(const std::string& a) { return handover_.claimed().count(a) > 0; }

  Handover handover_{"n1"};
  HandoverClock::time_point now_ = HandoverClock::time_point{} + 1000h;
  std::set<std::pair<std::string, std::string>> listed_;  // (node, address) heartbeats list
};

TEST_F(HandoverTest, ClaimsWhatThePlanGivesUsAndSaysWhichAreNew) {
  auto a = step({kA, kB}, {{kA, "n1"}, {kB, "n1"}});
  EXPECT_EQ(a.claim.size(), 2u);
  EXPECT_EQ(a.started, (std::vector<std::string>{kA, kB}));
  EXPECT_TRUE(step({kA, kB}, {{kA, "n1"}, {kB, "n1"}}).claim.empty());  // nothing changed
}

TEST_F(HandoverTest, AMoveToALiveNodeIsMakeBeforeBreakUntilItAnnounces) {
  step({kA}, {{kA, "n1"}});
  auto a = step({}, {{kA, "n2"}});
  EXPECT_TRUE(a.release.empty());  // still answering: n2 has not announced yet
  EXPECT_TRUE(claimed(kA));
  EXPECT_TRUE(handover_.handingOver());
  EXPECT_EQ(handover_.handingOverAddresses(), std::set<std::string>{kA});  // answered yielding
  now_ += 100ms;
  handover_.foreignSeen(kA, now_);
  a = step({}, {{kA, "n2"}}, {{kA, "02:00:00:00:00:02 on eth0"}});
  EXPECT_EQ(a.release, std::vector<std::string>{kA});
  EXPECT_EQ(a.conflictsLost, 0u);  // a hand-over, not a lost conflict
  EXPECT_FALSE(claimed(kA));
  EXPECT_FALSE(handover_.handingOver());
  EXPECT_TRUE(handover_.handingOverAddresses().empty());
}

TEST_F(HandoverTest, AMoveEndsAsSoonAsTheNewOwnersHeartbeatListsTheAddress) {
  step({kA}, {{kA, "n1"}});
  EXPECT_TRUE(step({}, {{kA, "n2"}}).release.empty());
  listed_.insert({"n2", kA});
  now_ += 40ms;
  EXPECT_EQ(step({}, {{kA, "n2"}}).release, std::vector<std::string>{kA});
}

TEST_F(HandoverTest, AMoveGivesUpWaitingAfterTheTimeout) {
  step({kA}, {{kA, "n1"}});
  step({}, {{kA, "n2"}});
  ASSERT_TRUE(handover_.nextGiveUp());
  EXPECT_EQ(*handover_.nextGiveUp(), now_ + kHandoverTimeout);
  now_ += kHandoverTimeout - 1ms;
  EXPECT_TRUE(step({}, {{kA, "n2"}}).release.empty());
  now_ += 1ms;
  EXPECT_EQ(step({}, {{kA, "n2"}}).release, std::vector<std::string>{kA});
}

TEST_F(HandoverTest, AnAddressWithNoOwnerIsReleasedAtOnce) {
  step({kA}, {{kA, "n1"}});
  EXPECT_EQ(step({}, {{kA, ""}}).release, std::vector<std::string>{kA});
}

TEST_F(HandoverTest, TheRightfulOwnerAnnouncesAgainAtMostOncePerGap) {
  step({kA}, {{kA, "n1"}});
  std::map<std::string, std::string> conflict{{kA, "02:00:00:00:00:02 on eth0"}};
  auto a = step({kA}, {{kA, "n1"}}, conflict);
  EXPECT_EQ(a.reannounce, std::vector<std::string>{kA});
  EXPECT_EQ(a.conflictsWon, 1u);
  now_ += 500ms;
  EXPECT_TRUE(step({kA}, {{kA, "n1"}}, conflict).reannounce.empty());
  now_ += 501ms;
  EXPECT_EQ(step({kA}, {{kA, "n1"}}, conflict).reannounce, std::vector<std::string>{kA});
  EXPECT_TRUE(claimed(kA));
}

TEST_F(HandoverTest, AWrongOwnerYieldsAtOnceEvenWhenFrozen) {
  step({kA}, {{kA, "n1"}});
  // Frozen: the plan (with a view we cannot vouch for) says n2; we keep it — until n2 shows up.
  EXPECT_TRUE(step({}, {{kA, "n2"}}, {}, true).release.empty());
  EXPECT_TRUE(claimed(kA));
  auto a = step({}, {{kA, "n2"}}, {{kA, "02:00:00:00:00:02 on eth0"}}, true);
  EXPECT_EQ(a.release, std::vector<std::string>{kA});
  EXPECT_EQ(a.conflictsLost, 1u);
}

TEST_F(HandoverTest, FrozenTakesNothingNew) {
  auto a = step({kA}, {{kA, "n1"}}, {}, true);
  EXPECT_TRUE(a.claim.empty());
  EXPECT_FALSE(claimed(kA));
}

TEST_F(HandoverTest, ConflictsOnAddressesWeDoNotAnnounceAreIgnored) {
  auto a = step({}, {{kA, "n2"}}, {{kA, "02:00:00:00:00:02 on eth0"}});
  EXPECT_TRUE(a.release.empty());
  EXPECT_EQ(a.conflictsLost + a.conflictsWon, 0u);
}

TEST_F(HandoverTest, ReleaseAllAtShutdownSaysWhatWasHandedOver) {
  auto started = now_;
  step({kA, kB}, {{kA, "n1"}, {kB, "n1"}});
  handover_.foreignSeen(kA, now_ + 10ms);
  EXPECT_TRUE(handover_.foreignSeenSince(kA, started));
  EXPECT_FALSE(handover_.foreignSeenSince(kB, started));
  EXPECT_EQ(handover_.releaseAll().size(), 2u);
  EXPECT_TRUE(handover_.claimed().empty());
}

}  // namespace
}  // namespace l2a::agent

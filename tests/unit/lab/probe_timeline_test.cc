#include "lab/probe_timeline.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace l2a::lab {
namespace {

TEST(ProbeTimeline, EveryConnectAnsweredMeansNoGap) {
  ProbeTimeline t;
  for (int i = 0; i < 10; ++i) t.recordConnect(i * 10.0, true);
  auto s = t.summarize();
  EXPECT_EQ(s.connects, 10);
  EXPECT_EQ(s.lost, 0);
  EXPECT_TRUE(s.gaps.empty());
  EXPECT_EQ(s.longestGapMs(), 0);
}

TEST(ProbeTimeline, AGapRunsFromTheFirstLostConnectToTheNextAnsweredOne) {
  ProbeTimeline t;
  // Recorded in completion order: the lost ones time out after later ones were answered.
  t.recordConnect(0, true);
  t.recordConnect(40, true);
  t.recordConnect(10, false);
  t.recordConnect(20, false);
  t.recordConnect(30, false);
  t.recordConnect(60, false);
  auto s = t.summarize();
  EXPECT_EQ(s.lost, 4);
  ASSERT_EQ(s.gaps.size(), 2u);
  EXPECT_EQ(s.gaps[0].startMs, 10);
  EXPECT_EQ(s.gaps[0].endMs, 40);
  EXPECT_EQ(s.gaps[0].samples, 3);
  EXPECT_FALSE(s.gaps[0].open);
  EXPECT_TRUE(s.gaps[1].open);  // never answered again before the prober stopped
  EXPECT_EQ(s.longestGapMs(), 30);
}

TEST(ProbeTimeline, TwoMacsInOneWindowAreAnOverlapAndOwnerChangesAreListed) {
  ProbeTimeline t;
  t.recordWindow(0, {"aa"});
  t.recordWindow(10, {});
  t.recordWindow(20, {});
  t.recordWindow(30, {"bb", "aa"});
  t.recordWindow(40, {"bb", "bb"});  // one MAC answering twice is no overlap
  t.recordWindow(50, {"bb"});
  auto s = t.summarize();
  EXPECT_EQ(s.windows, 6);
  ASSERT_EQ(s.unanswered.size(), 1u);
  EXPECT_EQ(s.longestUnansweredMs(), 20);
  ASSERT_EQ(s.overlaps.size(), 1u);
  EXPECT_EQ(s.overlapMs(), 10);
  EXPECT_EQ(s.overlaps[0].macs, (std::vector<std::string>{"aa", "bb"}));
  ASSERT_EQ(s.owners.size(), 2u);
  EXPECT_EQ(s.owners[1].mac, "bb");
  EXPECT_EQ(s.owners[1].atMs, 40);
  auto j = s.toJson();
  EXPECT_EQ(j["overlapMs"], 10);
  EXPECT_EQ(j["unanswered"][0]["samples"], 2);
}

}  // namespace
}  // namespace l2a::lab

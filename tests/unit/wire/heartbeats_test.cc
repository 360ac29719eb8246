#include "wire/heartbeats.h"

#include <gtest/gtest.h>

#include "support/fake_frame_io.h"

namespace l2a::wire {
namespace {

using namespace std::chrono_literals;

const packet::MacAddress kMacA = *packet::MacAddress::parse("02:00:00:00:00:0a");
const packet::MacAddress kMacB = *packet::MacAddress::parse("02:00:00:00:00:0b");
const packet::MacAddress kMacC = *packet::MacAddress::parse("02:00:00:00:00:0c");

// Three agents on one segment: what each sends, the others receive (unless cut).
class Segment : public ::testing::Test {
 protected:
  struct Node {
    std::string name;
    ::l2a::testing::FakeFrameIo io;
    std::unique_ptr<Heartbeats> heartbeats;
    int changes = 0;
    bool sends = true;  // false: its frames reach nobody (a one-way cut)
    bool hears = true;
  };
  Node& add(const std::string& name, packet::MacAddress mac) {
    auto node = std::make_unique<Node>();
    node->name = name;
    Node* raw = node.get();
    node->heartbeats = std::make_unique<Heartbeats>(
        node->io, HeartbeatOptions{.node = name, .interval = 40ms, .liveness = {.misses = 5, .holdDown = 10s}},
        [raw] { ++raw->changes; }, now_);
    node->heartbeats->setPorts({{2, "eth0", mac}});
    nodes_.push_back(std::move(node));
    return *raw;
  }
  // 10 ms steps: every node ticks, and its frames reach every other node that hears.
  void run(std::chrono::milliseconds span) {
    for (auto end = now_ + span; now_ < end;) {
      now_ += 10ms;
      for (auto& n : nodes_) {
        n->heartbeats->tick(now_);
        for (const auto& sent : n->io.take()) {
          for (auto& other : nodes_) {
            if (other.get() == n.get() || !n->sends || !other->hears) continue;
            EXPECT_TRUE(other->heartbeats->handleFrame(2, sent.frame, now_));
          }
        }
      }
    }
  }
  std::set<std::string> excluded(Node& n) { return n.heartbeats->view(now_).excluded; }
  std::set<std::string> lastResort(Node& n) { return n.heartbeats->view(now_).lastResort; }

  Clock::time_point now_ = Clock::time_point{} + 1000h;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(Segment, EachNodeSendsOneFramePerPortPerIntervalAndJoinsTheGroup) {
  Node& a = add("a", kMacA);
  EXPECT_TRUE(a.io.groups.count({2, kHeartbeatGroup}));
  a.heartbeats->setAnnounced({*packet::parseIpAddress("198.18.0.200")});
  a.heartbeats->tick(now_);
  auto first = a.io.take();
  ASSERT_EQ(first.size(), 1u);
  auto parsed = parseHeartbeat(first[0].frame);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->node, "a");
  EXPECT_EQ(parsed->announced.size(), 1u);
  a.heartbeats->tick(now_ + 20ms);
  EXPECT_TRUE(a.io.take().empty());
  a.heartbeats->tick(now_ + 40ms);
  EXPECT_EQ(a.io.take().size(), 1u);
  EXPECT_EQ(a.heartbeats->stats(now_).sent, 2u);
}

TEST_F(Segment, APeerWhoseHeartbeatListsAllItAnnouncesIsVouchedForByTheWire) {
  Node& a = add("a", kMacA);
  Node& b = add("b", kMacB);
  std::vector<packet::IpAddress> few{*packet::parseIpAddress("198.18.0.1"), *packet::parseIpAddress("2001:db8::1")};
  b.heartbeats->setAnnounced(few);
  run(100ms);
  auto view = a.heartbeats->view(now_);
  EXPECT_EQ(view.announced["b"], few);
  EXPECT_EQ(view.listedAll, std::set<std::string>{"b"});
  std::vector<packet::IpAddress> many;
  for (int i = 0; i < 100; ++i) many.push_back(*packet::parseIpAddress("198.18.1." + std::to_string(i)));
  b.heartbeats->setAnnounced(many);
  run(100ms);
  view = a.heartbeats->view(now_);
  EXPECT_EQ(view.announced["b"].size(), kMaxListedAddresses);  // the first 64 of 100
  EXPECT_TRUE(view.listedAll.empty());  // the rest only the records can tell
}

TEST_F(Segment, ASilentNodeIsExcludedByAllWithinItsWindowAndHeldDownWhenBack) {
  Node& a = add("a", kMacA);
  Node& b = add("b", kMacB);
  Node& c = add("c", kMacC);
  run(500ms);
  EXPECT_TRUE(excluded(a).empty());
  EXPECT_TRUE(excluded(b).empty());
  c.sends = false;
  c.hears = false;  // its switch port is gone
  int before = a.changes;
  run(190ms);
  EXPECT_TRUE(excluded(a).empty());
  run(60ms);
  EXPECT_EQ(excluded(a), std::set<std::string>{"c"});
  EXPECT_EQ(excluded(b), std::set<std::string>{"c"});
  EXPECT_GT(a.changes, before);  // the agent was told at once
  EXPECT_TRUE(c.heartbeats->view(now_).isolated);
  EXPECT_TRUE(excluded(c).empty());  // cut off, c judges nobody
  c.sends = c.hears = true;
  run(100ms);
  // Back: the others hold c down, and c hears it: a last resort everywhere, c's own view included.
  EXPECT_TRUE(excluded(a).empty());
  EXPECT_TRUE(excluded(c).empty());
  EXPECT_EQ(lastResort(a), std::set<std::string>{"c"});
  EXPECT_EQ(lastResort(b), std::set<std::string>{"c"});
  EXPECT_EQ(lastResort(c), std::set<std::string>{"c"});
  run(10s);
  EXPECT_TRUE(lastResort(a).empty());
  EXPECT_TRUE(lastResort(c).empty());
}

TEST_F(Segment, AOneWayCutEndsWithTheUnheardNodeStandingAsideEverywhere) {
  Node& a = add("a", kMacA);
  Node& b = add("b", kMacB);
  Node& c = add("c", kMacC);
  run(500ms);
  c.sends = false;  // c hears the LAN but is not heard
  run(400ms);
  EXPECT_EQ(excluded(a), std::set<std::string>{"c"});
  EXPECT_EQ(excluded(b), std::set<std::string>{"c"});
  EXPECT_EQ(excluded(c), std::set<std::string>{"c"});  // c learns it from their heartbeats
}

TEST_F(Segment, FramesWithAWrongKeyAreCountedAndIgnored) {
  Node& a = add("a", kMacA);
  Node& b = add("b", kMacB);
  Node& c = add("c", kMacC);
  for (Node* n : {&a, &b}) n->heartbeats->setKeys({"right"});
  c.heartbeats->setKeys({"wrong"});
  run(500ms);
  EXPECT_FALSE(a.heartbeats->stats(now_).peers.count("c"));
  EXPECT_TRUE(a.heartbeats->stats(now_).peers.count("b"));
  EXPECT_GT(a.heartbeats->stats(now_).rejected["bad_hmac"], 0u);
  // Rotation: c moves to the new key while a and b accept both.
  for (Node* n : {&a, &b}) n->heartbeats->setKeys({"right", "wrong"});
  run(200ms);
  EXPECT_TRUE(a.heartbeats->stats(now_).peers.count("c"));
}

TEST_F(Segment, OtherFramesAreLeftToTheResponder) {
  Node& a = add("a", kMacA);
  packet::Bytes arp(60, std::byte{0});
  arp[12] = std::byte{0x08};
  arp[13] = std::byte{0x06};
  EXPECT_FALSE(a.heartbeats->handleFrame(2, arp, now_));
}

TEST_F(Segment, TheIntervalGrowsWithTheSegment) {
  Node& a = add("a", kMacA);
  for (int i = 0; i < 199; ++i) {
    a.heartbeats->handleFrame(2, buildHeartbeat(kMacB, Heartbeat{.node = "peer-" + std::to_string(i), .incarnation = 1,
                                                                  .sequence = 1, .intervalMs = 200}),
                              now_);
  }
  a.heartbeats->tick(now_);
  // 200 nodes at 1,000 frames/s for the segment: one frame per 200 ms each.
  EXPECT_EQ(a.heartbeats->stats(now_).interval, 200ms);
}

}  // namespace
}  // namespace l2a::wire

#include "responder/responder.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "packet/arp.h"
#include "packet/ndp.h"
#include "support/fake_frame_io.h"
#include "support/hex.h"
#include "support/packet_vectors.h"

namespace l2a::responder {
namespace {

using namespace std::chrono_literals;
using packet::DropReason;
using packet::IpAddress;
using testing::fromHex;
using testing::toHex;

const packet::MacAddress kNodeMac = *packet::MacAddress::parse("02:00:00:00:00:11");
const packet::MacAddress kOtherMac = *packet::MacAddress::parse("02:00:00:00:00:22");
const packet::IpAddress kV4 = *packet::parseIpAddress("198.18.0.11");
const packet::IpAddress kV6 = *packet::parseIpAddress("2001:db8::11");
const packet::IpAddress kV6b = *packet::parseIpAddress("2001:db8::200");

k8s::InterfaceSelector selector(std::vector<std::string> patterns) {
  return k8s::InterfaceSelector::create(patterns).value();
}

class ResponderTest : public ::testing::Test {
 protected:
  ResponderTest() : responder_(io_, AnnouncementConfig{.count = 3, .interval = 500ms}, [this] { ++wakes_; }) {
    responder_.setPorts({{2, "eth0", kNodeMac}, {3, "eth1", kOtherMac}});
  }
  PortCounters counters(const std::string& port) { return responder_.counters()[port]; }
  void flushAnnouncements() {
    responder_.tick(t0_);
    io_.take();
  }

  testing::FakeFrameIo io_;
  int wakes_ = 0;
  Responder responder_;
  Clock::time_point t0_ = Clock::time_point{} + 1000h;
};

// Counters were kept forever per port name, and "every interface" includes veths that come
// and go: their counters (and metric series) now go two minutes after the port did (a scrape has
// seen their last values by then).
TEST_F(ResponderTest, CountersOfAPortThatWentAwayAreDroppedAfterAWhile) {
  responder_.setPorts({{2, "eth0", kNodeMac}, {4, "veth1234", kOtherMac}});
  ASSERT_TRUE(responder_.counters().count("eth1"));
  responder_.tick(t0_);
  EXPECT_TRUE(responder_.counters().count("eth1"));  // gone a moment ago: kept
  responder_.tick(t0_ + 1min);
  EXPECT_TRUE(responder_.counters().count("eth1"));
  responder_.setPorts({{2, "eth0", kNodeMac}});  // veth1234 goes too
  responder_.tick(t0_ + 2min);
  EXPECT_FALSE(responder_.counters().count("eth1"));
  EXPECT_TRUE(responder_.counters().count("veth1234"));
  EXPECT_TRUE(responder_.counters().count("eth0"));
  responder_.setPorts({{2, "eth0", kNodeMac}, {4, "veth1234", kOtherMac}});  // back: counting again
  responder_.tick(t0_ + 10min);
  EXPECT_TRUE(responder_.counters().count("veth1234"));
  EXPECT_EQ(responder_.counters().size(), 2u);
}

TEST_F(ResponderTest, AnswersClaimedArpWithTheKernelsReplyBytes) {
  responder_.claim(kV4);
  flushAnnouncements();
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest));
  auto sent = io_.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].ifindex, 2);
  EXPECT_EQ(toHex(sent[0].frame), toHex(fromHex(testing::kKernelArpReply)));
  EXPECT_EQ(counters("eth0").arpReplies, 1u);
  EXPECT_EQ(counters("eth0").arpRequests, 1u);
}

// Handed over (still answered until the new owner is heard): the answer leaves Override clear,
// so a client that took the new owner's MAC keeps it; taken back, Override again.
TEST_F(ResponderTest, AYieldingClaimAnswersWithoutOverride) {
  responder_.claim(kV6);
  flushAnnouncements();
  auto overrideOfAnswer = [this]() -> std::optional<bool> {
    responder_.handleFrame(2, fromHex(testing::kKernelNeighborSolicitation));
    auto sent = io_.take();
    if (sent.size() != 1) return std::nullopt;
    auto eth = packet::parseEthernet(sent[0].frame);
    if (!eth) return std::nullopt;
    auto na = packet::parseNeighborAdvertisement(eth->payload);
    if (!na) return std::nullopt;
    EXPECT_TRUE(na->solicited);
    return na->override;
  };
  EXPECT_EQ(overrideOfAnswer(), true);
  responder_.setYielding(kV6, true);
  EXPECT_EQ(overrideOfAnswer(), false);
  responder_.setYielding(kV6, false);
  EXPECT_EQ(overrideOfAnswer(), true);
  // A release ends it: claimed again, the address answers with Override.
  responder_.setYielding(kV6, true);
  responder_.release(kV6);
  responder_.claim(kV6);
  flushAnnouncements();
  EXPECT_EQ(overrideOfAnswer(), true);
  // Another MAC announcing it: with nobody to decide (no conflict handler), nothing changes.
  auto foreignAnnouncement = packet::buildUnsolicitedAdvertisement(*packet::MacAddress::parse("02:00:00:00:00:99"),
                                                                   std::get<packet::Ipv6Address>(kV6));
  responder_.handleFrame(2, foreignAnnouncement);
  EXPECT_EQ(overrideOfAnswer(), true);
  // With one, a conflict makes it yield at once, until the owner decides.
  int conflicts = 0;
  responder_.setConflictHandler([&](const packet::IpAddress&, const packet::MacAddress&, const std::string&) { ++conflicts; });
  responder_.handleFrame(2, foreignAnnouncement);
  EXPECT_EQ(conflicts, 1);
  EXPECT_EQ(overrideOfAnswer(), false);
  responder_.setYielding(kV6, false);  // decided: ours
  EXPECT_EQ(overrideOfAnswer(), true);
  // Yielding an address not claimed changes nothing.
  responder_.setYielding(kV4, true);
  EXPECT_EQ(responder_.claims().size(), 1u);
}

TEST_F(ResponderTest, ReplyCarriesTheReceivingPortsMac) {
  responder_.claim(kV4);
  flushAnnouncements();
  responder_.handleFrame(3, fromHex(testing::kKernelArpRequest));
  auto sent = io_.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].ifindex, 3);
  auto eth = packet::parseEthernet(sent[0].frame);
  EXPECT_EQ(eth->header.source, kOtherMac);
}

TEST_F(ResponderTest, AnswersClaimedNeighborSolicitationWithTheKernelsBytes) {
  responder_.claim(kV6);
  flushAnnouncements();
  responder_.handleFrame(2, fromHex(testing::kKernelNeighborSolicitation));
  auto sent = io_.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(toHex(sent[0].frame), toHex(fromHex(testing::kKernelNeighborAdvertisement)));
  EXPECT_EQ(counters("eth0").neighborAdvertisements, 1u);
}

TEST_F(ResponderTest, NeverAnswersUnclaimedAddresses) {
  responder_.claim(kV6b);
  flushAnnouncements();
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest));
  responder_.handleFrame(2, fromHex(testing::kKernelNeighborSolicitation));
  EXPECT_TRUE(io_.take().empty());
  EXPECT_EQ(counters("eth0").drop(DropReason::kNotClaimed), 2u);
}

TEST_F(ResponderTest, ReleaseStopsAnswersAtOnce) {
  responder_.claim(kV4);
  flushAnnouncements();
  EXPECT_TRUE(responder_.release(kV4));
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest));
  EXPECT_TRUE(io_.take().empty());
  EXPECT_FALSE(responder_.release(kV4));
}

TEST_F(ResponderTest, NeverAnswersOnPortsOutsideTheClaimsScope) {
  responder_.claim(kV4, selector({"^eth1$"}));
  flushAnnouncements();
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest));
  EXPECT_TRUE(io_.take().empty());
  EXPECT_EQ(counters("eth0").drop(DropReason::kNotClaimed), 1u);
  responder_.handleFrame(3, fromHex(testing::kKernelArpRequest));
  EXPECT_EQ(io_.take().size(), 1u);
}

TEST_F(ResponderTest, IgnoresFramesFromUnknownPorts) {
  responder_.claim(kV4);
  flushAnnouncements();
  responder_.handleFrame(9, fromHex(testing::kKernelArpRequest));
  EXPECT_TRUE(io_.take().empty());
}

TEST_F(ResponderTest, DropsMalformedAndForeignFramesByReason) {
  responder_.claim(kV4);
  responder_.claim(kV6);
  flushAnnouncements();
  packet::Bytes badHop = fromHex(testing::kKernelNeighborSolicitation);
  badHop[21] = std::byte{64};
  responder_.handleFrame(2, badHop);
  packet::Bytes badSum = fromHex(testing::kKernelNeighborSolicitation);
  badSum[57] ^= std::byte{0xff};
  responder_.handleFrame(2, badSum);
  responder_.handleFrame(2, packet::buildGratuitousArp(kOtherMac, std::get<packet::Ipv4Address>(kV4),
                                                       packet::GratuitousArpForm::kReply));
  responder_.handleFrame(2, packet::buildGratuitousArp(kOtherMac, std::get<packet::Ipv4Address>(kV4),
                                                       packet::GratuitousArpForm::kRequest));
  packet::Bytes own = fromHex(testing::kKernelArpRequest);
  for (size_t i = 0; i < 6; ++i) own[6 + i] = static_cast<std::byte>(kNodeMac.octets[i]);
  responder_.handleFrame(2, own);
  packet::Bytes tagged = fromHex("ffffffffffff 020000000100 8100 0064");
  auto untagged = fromHex(testing::kKernelArpRequest);
  tagged.insert(tagged.end(), untagged.begin() + 12, untagged.end());
  responder_.handleFrame(2, tagged);
  responder_.handleFrame(2, fromHex("ffffffff"));

  EXPECT_TRUE(io_.take().empty());
  PortCounters c = counters("eth0");
  EXPECT_EQ(c.drop(DropReason::kBadHopLimit), 1u);
  EXPECT_EQ(c.drop(DropReason::kBadChecksum), 1u);
  // kOtherMac is our own eth1: its announcements seen on eth0 are neither answered nor conflicts.
  EXPECT_EQ(c.drop(DropReason::kArpNotRequest), 1u);
  EXPECT_EQ(c.drop(DropReason::kArpGratuitous), 1u);
  EXPECT_EQ(c.conflicts, 0u);
  EXPECT_EQ(c.drop(DropReason::kOwnFrame), 1u);
  EXPECT_EQ(c.drop(DropReason::kVlanTagged), 1u);
  EXPECT_EQ(c.drop(DropReason::kTruncated), 1u);
  uint64_t drops = 0;
  for (uint64_t d : c.drops) drops += d;
  EXPECT_EQ(c.requests(), drops + c.replies());  // every frame seen is answered or counted
}

TEST_F(ResponderTest, OthersAnnouncingUnclaimedAddressesAreOnlyCounted) {
  auto other = *packet::Ipv4Address::parse("198.18.0.99");
  responder_.handleFrame(2, packet::buildGratuitousArp(kOtherMac, other, packet::GratuitousArpForm::kRequest));
  responder_.handleFrame(2, packet::buildGratuitousArp(kOtherMac, other, packet::GratuitousArpForm::kReply));
  EXPECT_EQ(counters("eth0").drop(DropReason::kArpGratuitous), 1u);
  EXPECT_EQ(counters("eth0").drop(DropReason::kArpNotRequest), 1u);
  EXPECT_EQ(counters("eth0").conflicts, 0u);
}

TEST_F(ResponderTest, ForeignAnnouncementsOfClaimedAddressesReachTheConflictHandler) {
  std::vector<std::tuple<std::string, std::string, std::string>> seen;
  responder_.setConflictHandler([&](const packet::IpAddress& a, const packet::MacAddress& m, const std::string& p) {
    seen.emplace_back(packet::toString(a), m.toString(), p);
  });
  responder_.claim(kV4);
  responder_.claim(kV6b);
  flushAnnouncements();
  const packet::MacAddress stranger = *packet::MacAddress::parse("02:00:00:00:00:99");
  responder_.handleFrame(3, packet::buildGratuitousArp(stranger, std::get<packet::Ipv4Address>(kV4),
                                                       packet::GratuitousArpForm::kRequest));
  responder_.handleFrame(2, packet::buildUnsolicitedAdvertisement(stranger, std::get<packet::Ipv6Address>(kV6b)));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_tuple(std::string("198.18.0.11"), stranger.toString(), std::string("eth1")));
  EXPECT_EQ(seen[1], std::make_tuple(std::string("2001:db8::200"), stranger.toString(), std::string("eth0")));
  // Our own announcements, seen on another of our ports on the same LAN, are not conflicts.
  responder_.handleFrame(2, packet::buildUnsolicitedAdvertisement(kOtherMac, std::get<packet::Ipv6Address>(kV6b)));
  responder_.handleFrame(3, packet::buildGratuitousArp(kNodeMac, std::get<packet::Ipv4Address>(kV4),
                                                       packet::GratuitousArpForm::kRequest));
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(ResponderTest, ReannounceSendsTheBurstAgain) {
  responder_.claim(kV4);
  responder_.tick(t0_);
  responder_.tick(t0_ + 1s);
  responder_.tick(t0_ + 2s);
  io_.take();
  responder_.reannounce(kV4);
  responder_.tick(t0_ + 3s);
  EXPECT_EQ(io_.take().size(), 2u);  // both ports, at once
}

TEST_F(ResponderTest, SendFailuresAreCounted) {
  responder_.claim(kV4);
  flushAnnouncements();
  io_.failSends = true;
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest));
  EXPECT_EQ(counters("eth0").sendErrors, 1u);
  EXPECT_EQ(counters("eth0").arpReplies, 0u);
}

TEST_F(ResponderTest, ClaimAnnouncesAtOnceThenRepeatsAtTheInterval) {
  EXPECT_TRUE(responder_.claim(kV4));
  EXPECT_EQ(wakes_, 1);
  auto next = responder_.tick(t0_);
  auto sent = io_.take();
  ASSERT_EQ(sent.size(), 2u);  // both ports
  EXPECT_EQ(toHex(sent[0].frame).substr(0, 12), "ffffffffffff");
  auto eth = packet::parseEthernet(sent[0].frame);
  auto arp = packet::parseArp(eth->payload);
  EXPECT_EQ(arp->senderIp, arp->targetIp);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, t0_ + 500ms);
  EXPECT_TRUE(io_.take().empty());
  responder_.tick(t0_ + 499ms);
  EXPECT_TRUE(io_.take().empty());
  next = responder_.tick(t0_ + 500ms);
  EXPECT_EQ(io_.take().size(), 2u);
  next = responder_.tick(*next);
  EXPECT_EQ(io_.take().size(), 2u);
  EXPECT_FALSE(next.has_value());  // three bursts, no refresh configured
  EXPECT_EQ(counters("eth0").gratuitousArps, 3u);
}

TEST_F(ResponderTest, AMassClaimAnswersAtOnceButAnnouncesPaced) {
  constexpr size_t kClaims = 600;
  // Taken at once (a mass take-over): one lock, one wake of the loop, not one per address.
  std::vector<std::pair<packet::IpAddress, k8s::InterfaceSelector>> batch;
  for (size_t i = 0; i + 1 < kClaims; ++i) {
    batch.emplace_back(packet::Ipv4Address{{198, 18, static_cast<uint8_t>(10 + i / 256), static_cast<uint8_t>(i % 256)}},
                       k8s::InterfaceSelector{});
  }
  batch.emplace_back(kV4, k8s::InterfaceSelector{});  // the last claimed: announced last
  auto again = batch;
  EXPECT_EQ(responder_.claim(std::move(batch)), kClaims);
  EXPECT_EQ(wakes_, 1);
  EXPECT_EQ(responder_.claim(std::move(again)), 0u);  // the same scopes: nothing changed, no wake
  EXPECT_EQ(wakes_, 1);
  auto next = responder_.tick(t0_);
  EXPECT_EQ(io_.take().size(), 2 * Responder::kAnnouncementsPerTick);  // 250 addresses, both ports
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, t0_ + Responder::kAnnouncementTick);
  // Every claim answers already, paced or not.
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest), t0_);
  EXPECT_EQ(counters("eth0").arpReplies, 1u);
  io_.take();
  next = responder_.tick(*next);
  EXPECT_EQ(io_.take().size(), 2 * Responder::kAnnouncementsPerTick);
  next = responder_.tick(*next);
  EXPECT_EQ(io_.take().size(), 2 * (kClaims - 2 * Responder::kAnnouncementsPerTick));
  EXPECT_EQ(*next, t0_ + 500ms);  // the second bursts, when due
  EXPECT_EQ(counters("eth0").gratuitousArps, kClaims);
}

TEST_F(ResponderTest, AMassReleaseStopsAnsweringForAllWithOneWake) {
  responder_.claim(kV4);
  responder_.claim(kV6);
  flushAnnouncements();
  EXPECT_EQ(responder_.release(std::vector<packet::IpAddress>{kV4, kV6, kV6b}), 2u);  // kV6b was not claimed
  EXPECT_EQ(wakes_, 3);
  EXPECT_TRUE(responder_.claims().empty());
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest), t0_);
  EXPECT_EQ(counters("eth0").arpReplies, 0u);
  EXPECT_EQ(responder_.release(std::vector<packet::IpAddress>{kV4}), 0u);
  EXPECT_EQ(wakes_, 3);
}

TEST_F(ResponderTest, ClaimingAgainWithTheSameScopeChangesNothing) {
  responder_.claim(kV4);
  flushAnnouncements();
  EXPECT_FALSE(responder_.claim(kV4));
  EXPECT_EQ(wakes_, 1);
  // The burst goes on where it was: nothing new is due before t0 + 500ms.
  responder_.tick(t0_ + 1ms);
  EXPECT_TRUE(io_.take().empty());
  EXPECT_EQ(counters("eth0").gratuitousArps, 1u);
}

TEST_F(ResponderTest, ReleaseCancelsPendingAnnouncements) {
  responder_.claim(kV6);
  responder_.tick(t0_);
  io_.take();
  responder_.release(kV6);
  EXPECT_FALSE(responder_.tick(t0_ + 1s).has_value());
  EXPECT_TRUE(io_.take().empty());
}

TEST(Responder, RefreshRepeatsForever) {
  testing::FakeFrameIo io;
  Responder r(io, AnnouncementConfig{.count = 1, .interval = 100ms, .refresh = 30s});
  r.setPorts({{2, "eth0", kNodeMac}});
  r.claim(kV6);
  auto t = Clock::time_point{} + 1h;
  auto next = r.tick(t);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, t + 30s);
  for (int i = 0; i < 5; ++i) next = r.tick(*next);
  EXPECT_EQ(r.counters()["eth0"].unsolicitedAdvertisements, 6u);
  EXPECT_EQ(toHex(io.sent[0].frame),
            toHex(packet::buildUnsolicitedAdvertisement(
                kNodeMac, std::get<packet::Ipv6Address>(kV6))));
}

TEST_F(ResponderTest, JoinsSolicitedNodeGroupsOnlyWhileClaimed) {
  responder_.claim(kV6);
  responder_.claim(kV4);
  responder_.tick(t0_);
  auto group = std::get<packet::Ipv6Address>(kV6).solicitedNode().multicastMac();
  EXPECT_EQ(io_.groups.size(), 2u);  // one group, two ports; none for IPv4
  EXPECT_TRUE(io_.groups.count({2, group}));
  responder_.release(kV6);
  responder_.tick(t0_);
  EXPECT_TRUE(io_.groups.empty());
}

// Each port's kernel filter is told the claims active on it, before the claim's first
// announcement leaves: scoped claims only where their scope reaches, nothing after a release,
// and a port that comes up learns them at once.
TEST_F(ResponderTest, EachPortsFilterIsToldTheClaimsActiveOnIt) {
  using Claimed = std::set<IpAddress>;
  responder_.tick(t0_);
  EXPECT_EQ(io_.filters[2], Claimed{});
  EXPECT_EQ(io_.filters[3], Claimed{});
  responder_.claim(kV4);
  responder_.claim(kV6, selector({"^eth1$"}));
  EXPECT_EQ(io_.filters[2], Claimed{});  // the loop thread's business: at its next turn
  responder_.tick(t0_);
  EXPECT_EQ(io_.filters[2], (Claimed{kV4}));
  EXPECT_EQ(io_.filters[3], (Claimed{kV4, kV6}));
  EXPECT_EQ(io_.sentWhenFiltered[3], 0u);
  EXPECT_FALSE(io_.take().empty());  // announced in that same turn, after the filters
  responder_.setPorts({{2, "eth0", kNodeMac}, {3, "eth1", kOtherMac}, {4, "eth1.7", kOtherMac}});
  EXPECT_EQ(io_.filters[4], (Claimed{kV4}));  // "^eth1$" is not eth1.7
  responder_.release(kV4);
  responder_.tick(t0_ + 1ms);
  EXPECT_EQ(io_.filters[2], Claimed{});
  EXPECT_EQ(io_.filters[3], (Claimed{kV6}));
  EXPECT_EQ(io_.filters[4], Claimed{});
  int changes = io_.filterChanges;
  responder_.tick(t0_ + 2ms);  // nothing changed: the ports are not told again
  EXPECT_EQ(io_.filterChanges, changes);
}

TEST_F(ResponderTest, NewPortGetsAnnouncementsAndMemberships) {
  responder_.claim(kV6, selector({"^eth"}));
  flushAnnouncements();
  responder_.setPorts({{2, "eth0", kNodeMac}, {3, "eth1", kOtherMac}, {4, "eth2", kOtherMac}});
  responder_.tick(t0_ + 1ms);
  auto sent = io_.take();
  ASSERT_FALSE(sent.empty());
  auto group = std::get<packet::Ipv6Address>(kV6).solicitedNode().multicastMac();
  EXPECT_TRUE(io_.groups.count({4, group}));
  responder_.handleFrame(4, fromHex(testing::kKernelNeighborSolicitation));
  EXPECT_EQ(io_.take().size(), 1u);
}

TEST_F(ResponderTest, RemovedPortStopsAnswering) {
  responder_.claim(kV4);
  flushAnnouncements();
  responder_.setPorts({{3, "eth1", kOtherMac}});
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest));
  EXPECT_TRUE(io_.take().empty());
  ASSERT_EQ(responder_.claims().size(), 1u);
  EXPECT_EQ(responder_.claims()[0].activePorts, std::vector<std::string>{"eth1"});
}

TEST_F(ResponderTest, AnswersDadProbeToAllNodes) {
  responder_.claim(kV6b);
  flushAnnouncements();
  responder_.handleFrame(2, fromHex(testing::kDadNeighborSolicitationFor200));
  auto sent = io_.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(toHex(sent[0].frame), toHex(fromHex(testing::kUnsolicitedAdvertisement)));
}

TEST_F(ResponderTest, AReplyLimitAnswersABurstThenRefillsWithTime) {
  responder_.setReplyLimit({.perSecond = 100, .burst = 5});
  responder_.claim(kV4);
  flushAnnouncements();
  auto request = fromHex(testing::kKernelArpRequest);
  for (int i = 0; i < 20; ++i) responder_.handleFrame(2, request, t0_);
  EXPECT_EQ(io_.take().size(), 5u);  // the burst, then nothing at the same instant
  EXPECT_EQ(counters("eth0").drop(packet::DropReason::kRateLimited), 15u);
  // 50 ms later: 5 more answers' worth of tokens (100/s), capped at the burst.
  for (int i = 0; i < 20; ++i) responder_.handleFrame(2, request, t0_ + 50ms);
  EXPECT_EQ(io_.take().size(), 5u);
  // The limit is per interface: eth1 has its own bucket.
  for (int i = 0; i < 3; ++i) responder_.handleFrame(3, request, t0_ + 50ms);
  EXPECT_EQ(io_.take().size(), 3u);
  EXPECT_EQ(counters("eth0").arpReplies, 10u);
}

TEST_F(ResponderTest, NoReplyLimitByDefault) {
  responder_.claim(kV6);
  flushAnnouncements();
  auto request = fromHex(testing::kKernelNeighborSolicitation);
  for (int i = 0; i < 1000; ++i) responder_.handleFrame(2, request, t0_);
  EXPECT_EQ(io_.take().size(), 1000u);
  EXPECT_EQ(counters("eth0").drop(packet::DropReason::kRateLimited), 0u);
}


TEST_F(ResponderTest, ProbesAskTheLanAndAnotherOwnersAnswersComeBackAsConflicts) {
  std::vector<std::string> conflicts;
  responder_.setConflictHandler([&](const packet::IpAddress& a, const packet::MacAddress& m, const std::string&) {
    conflicts.push_back(packet::toString(a) + " " + m.toString());
  });
  responder_.setPorts({{2, "eth0", kNodeMac}});
  responder_.claim(kV4);
  responder_.claim(kV6b);
  for (auto t : {0s, 1s, 2s}) responder_.tick(t0_ + t);  // every announcement burst
  io_.take();
  responder_.probeClaims();
  responder_.tick(t0_ + 10s);
  auto probes = io_.take();
  ASSERT_EQ(probes.size(), 2u);
  EXPECT_EQ(counters("eth0").probes, 2u);
  // RFC 5227 probe (sender 0.0.0.0) and a DAD-style NS (from ::): no address of ours in either.
  for (const auto& p : probes) {
    auto eth = packet::parseEthernet(p.frame);
    ASSERT_TRUE(eth);
    if (eth->header.etherType == packet::kEtherTypeArp) {
      auto arp = packet::parseArp(eth->payload);
      EXPECT_TRUE(arp->senderIp.isUnspecified());
      EXPECT_EQ(IpAddress{arp->targetIp}, kV4);
    } else {
      auto ns = packet::parseNeighborSolicitation(eth->payload);
      ASSERT_TRUE(ns);
      EXPECT_TRUE(ns->source.isUnspecified());
      EXPECT_EQ(IpAddress{ns->target}, kV6b);
    }
  }
  // Another node that took the addresses over answers the probes...
  testing::FakeFrameIo otherIo;
  Responder other(otherIo, AnnouncementConfig{.count = 0});
  const packet::MacAddress stranger = *packet::MacAddress::parse("02:00:00:00:00:99");
  other.setPorts({{7, "eth0", stranger}});
  other.claim(kV4);
  other.claim(kV6b);
  for (const auto& p : probes) other.handleFrame(7, p.frame, t0_);
  auto answers = otherIo.take();
  ASSERT_EQ(answers.size(), 2u);
  // ...and its answers are conflicts for us.
  for (const auto& a : answers) responder_.handleFrame(2, a.frame, t0_);
  std::sort(conflicts.begin(), conflicts.end());
  EXPECT_EQ(conflicts, (std::vector<std::string>{"198.18.0.11 " + stranger.toString(),
                                                  "2001:db8::200 " + stranger.toString()}));
  // Nobody else answering means no conflict: a frozen owner alone on its LAN keeps its claims.
  responder_.probeClaims();
  responder_.tick(t0_ + 11s);
  EXPECT_EQ(io_.take().size(), 2u);
  EXPECT_EQ(conflicts.size(), 2u);
}

TEST_F(ResponderTest, UnconfirmedClaimsProbeRatherThanAnnounceOnAPortThatComesBack) {
  responder_.setPorts({{2, "eth0", kNodeMac}});
  responder_.claim(kV4);
  for (auto t : {0s, 1s, 2s}) responder_.tick(t0_ + t);  // every announcement burst
  io_.take();
  uint64_t announced = counters("eth0").gratuitousArps;
  responder_.setPorts({});  // eth0 went down
  responder_.setConfirmed(false);
  responder_.setPorts({{2, "eth0", kNodeMac}});  // and came back
  responder_.tick(t0_ + 10s);
  auto sent = io_.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(counters("eth0").probes, 1u);
  EXPECT_EQ(counters("eth0").gratuitousArps, announced);  // no announcement on its return
  // Confirmed again, a returning port is announced on at once.
  responder_.setConfirmed(true);
  responder_.setPorts({});
  responder_.setPorts({{2, "eth0", kNodeMac}});
  responder_.tick(t0_ + 20s);
  io_.take();
  EXPECT_EQ(counters("eth0").gratuitousArps, announced + 1);
}

// With the API server down for everyone, every node of a segment is unconfirmed at once and each
// probe is a broadcast: each node probes only its share of the segment's budget. Before, every
// node sent 64 probes every 100 ms (640 broadcasts a second each: 64,000 at 100 nodes).
TEST_F(ResponderTest, UnconfirmedProbesKeepToTheirRate) {
  responder_.setPorts({{2, "eth0", kNodeMac}});
  for (int i = 1; i <= 100; ++i) responder_.claim(*packet::parseIpAddress("198.18.1." + std::to_string(i)));
  for (auto t : {0s, 1s, 2s}) responder_.tick(t0_ + t);  // every announcement burst
  io_.take();
  auto probedIn = [&](Clock::time_point from, std::chrono::milliseconds span) {
    uint64_t before = counters("eth0").probes;
    for (auto t = from; t < from + span; t += 10ms) responder_.tick(t);
    io_.take();
    return counters("eth0").probes - before;
  };
  responder_.setConfirmed(false);
  EXPECT_EQ(probedIn(t0_ + 10s, 1s), 640u) << "the default: 64 every 100 ms";
  responder_.setProbeRate(Responder::kSegmentProbeBudget / 50);  // 50 nodes: 20 a second each
  EXPECT_EQ(probedIn(t0_ + 20s, 1s), 20u);
  responder_.setProbeRate(2);  // below one a round: rounds further apart
  EXPECT_EQ(probedIn(t0_ + 30s, 5s), 10u);
  responder_.setConfirmed(true);
  EXPECT_EQ(probedIn(t0_ + 40s, 1s), 0u);
}

TEST_F(ResponderTest, UnconfirmedAnAnsweredRequestProbesItsAddressAtOnce) {
  responder_.setPorts({{2, "eth0", kNodeMac}});
  responder_.claim(kV4);
  for (auto t : {0s, 1s, 2s}) responder_.tick(t0_ + t);  // every announcement burst
  responder_.setConfirmed(false);
  responder_.tick(t0_ + 10s);  // the first probe round
  io_.take();
  uint64_t probes = counters("eth0").probes;
  // A client asks: answered as before, and the address is probed at the next tick, long before
  // the next round (100 ms).
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest), t0_ + 10s + 1ms);
  EXPECT_EQ(io_.take().size(), 1u);
  responder_.tick(t0_ + 10s + 2ms);
  auto sent = io_.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(counters("eth0").probes, probes + 1);
  auto arp = packet::parseArp(packet::parseEthernet(sent[0].frame)->payload);
  EXPECT_TRUE(arp->senderIp.isUnspecified());
  // A burst of requests probes at most once per kDemandProbeGap.
  for (int i = 0; i < 5; ++i) responder_.handleFrame(2, fromHex(testing::kKernelArpRequest), t0_ + 10s + 3ms);
  responder_.tick(t0_ + 10s + 4ms);
  EXPECT_EQ(io_.take().size(), 5u);  // the five answers, no probe (2 ms after the last one)
  // Confirmed: answering probes nothing.
  responder_.setConfirmed(true);
  responder_.handleFrame(2, fromHex(testing::kKernelArpRequest), t0_ + 20s);
  responder_.tick(t0_ + 20s);
  EXPECT_EQ(io_.take().size(), 1u);
}

}  // namespace
}  // namespace l2a::responder

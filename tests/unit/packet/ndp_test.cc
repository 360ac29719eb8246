#include "packet/ndp.h"

#include <gtest/gtest.h>

#include <functional>

#include "support/hex.h"
#include "support/packet_vectors.h"

namespace l2a::packet {
namespace {

using testing::fromHex;
using testing::toHex;

const MacAddress kNodeMac = *MacAddress::parse("02:00:00:00:00:11");
const MacAddress kClientMac = *MacAddress::parse("02:00:00:00:01:00");

ByteSpan ipv6Of(const Bytes& frame) { return ByteSpan(frame).subspan(14); }

TEST(Icmpv6Checksum, MatchesTheKernelsOnARealSolicitation) {
  Bytes frame = fromHex(testing::kKernelNeighborSolicitation);
  auto ip = parseIpv6(ipv6Of(frame));
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(icmpv6Checksum(ip->header.source, ip->header.destination, ip->payload), 0x4a43);
}

TEST(NeighborSolicitation, ParsesKernelSolicitation) {
  Bytes frame = fromHex(testing::kKernelNeighborSolicitation);
  auto ns = parseNeighborSolicitation(ipv6Of(frame));
  ASSERT_TRUE(ns.ok()) << dropReasonName(ns.error());
  EXPECT_EQ(ns->target.toString(), "2001:db8::11");
  EXPECT_EQ(ns->source.toString(), "fe80::ff:fe00:100");
  EXPECT_EQ(ns->destination.toString(), "ff02::1:ff00:11");
  ASSERT_TRUE(ns->sourceLinkLayer.has_value());
  EXPECT_EQ(*ns->sourceLinkLayer, kClientMac);
}

TEST(NeighborAdvertisement, SolicitedAnswerIsByteIdenticalToTheKernels) {
  Bytes frame = fromHex(testing::kKernelNeighborSolicitation);
  auto eth = parseEthernet(frame);
  auto ns = parseNeighborSolicitation(eth->payload);
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(toHex(buildSolicitedAdvertisement(kNodeMac, eth->header, *ns)),
            toHex(fromHex(testing::kKernelNeighborAdvertisement)));
}

TEST(NeighborAdvertisement, AnswerWithoutSourceOptionGoesToTheFramesSource) {
  NeighborSolicitation ns{.source = *Ipv6Address::parse("fe80::ff:fe00:100"),
                          .destination = *Ipv6Address::parse("2001:db8::11"),
                          .target = *Ipv6Address::parse("2001:db8::11")};
  EthernetHeader eth{.destination = kNodeMac, .source = kClientMac};
  Bytes frame = buildSolicitedAdvertisement(kNodeMac, eth, ns);
  // Identical to the kernel's answer: same solicitor, destination MAC from the Ethernet source.
  EXPECT_EQ(toHex(frame), toHex(fromHex(testing::kKernelNeighborAdvertisement)));
}

TEST(NeighborAdvertisement, DadAnswerGoesToAllNodesWithSolicitedClear) {
  Bytes frame = fromHex(testing::kDadNeighborSolicitationFor200);
  auto eth = parseEthernet(frame);
  auto ns = parseNeighborSolicitation(eth->payload);
  ASSERT_TRUE(ns.ok()) << dropReasonName(ns.error());
  Bytes answer = buildSolicitedAdvertisement(kNodeMac, eth->header, *ns);
  EXPECT_EQ(toHex(answer), toHex(fromHex(testing::kUnsolicitedAdvertisement)));
  auto na = parseNeighborAdvertisement(ipv6Of(answer));
  ASSERT_TRUE(na.ok());
  EXPECT_FALSE(na->solicited);
  EXPECT_TRUE(na->override);
  EXPECT_FALSE(na->router);
}

TEST(NeighborAdvertisement, AnswerWithoutOverrideDiffersOnlyInThatFlag) {
  Bytes frame = fromHex(testing::kKernelNeighborSolicitation);
  auto eth = parseEthernet(frame);
  auto ns = parseNeighborSolicitation(eth->payload);
  ASSERT_TRUE(ns.ok());
  Bytes with = buildSolicitedAdvertisement(kNodeMac, eth->header, *ns);
  Bytes without = buildSolicitedAdvertisement(kNodeMac, eth->header, *ns, false);
  auto na = parseNeighborAdvertisement(ipv6Of(without));
  ASSERT_TRUE(na.ok());  // checksum and all valid (§7.1.2)
  EXPECT_FALSE(na->override);
  EXPECT_TRUE(na->solicited);
  ASSERT_EQ(with.size(), without.size());
  size_t differing = 0;
  for (size_t i = 0; i < with.size(); ++i) differing += with[i] != without[i];
  EXPECT_LE(differing, 3u);  // the flags byte and the checksum
  EXPECT_GE(differing, 1u);
}

TEST(NeighborAdvertisement, UnsolicitedByteExact) {
  EXPECT_EQ(toHex(buildUnsolicitedAdvertisement(kNodeMac, *Ipv6Address::parse("2001:db8::200"))),
            toHex(fromHex(testing::kUnsolicitedAdvertisement)));
}

TEST(NeighborSolicitation, BuildsByteExactRequestsForWhohas) {
  auto target = *Ipv6Address::parse("2001:db8::200");
  EXPECT_EQ(toHex(buildNeighborSolicitation(kClientMac, *Ipv6Address::parse("fe80::ff:fe00:100"),
                                            target)),
            toHex(fromHex(testing::kNeighborSolicitationFor200)));
  EXPECT_EQ(toHex(buildNeighborSolicitation(kClientMac, Ipv6Address{}, target)),
            toHex(fromHex(testing::kDadNeighborSolicitationFor200)));
}

TEST(NeighborAdvertisement, ParsesKernelAdvertisement) {
  Bytes frame = fromHex(testing::kKernelNeighborAdvertisement);
  auto na = parseNeighborAdvertisement(ipv6Of(frame));
  ASSERT_TRUE(na.ok()) << dropReasonName(na.error());
  EXPECT_TRUE(na->solicited);
  EXPECT_TRUE(na->override);
  EXPECT_EQ(na->target.toString(), "2001:db8::11");
  EXPECT_EQ(*na->targetLinkLayer, kNodeMac);
}

// Mutates the valid NS for 2001:db8::200, then fixes the checksum unless told not to.
Bytes mutatedSolicitation(const std::function<void(Bytes&)>& mutate, bool fixChecksum = true) {
  Bytes frame = fromHex(testing::kNeighborSolicitationFor200);
  mutate(frame);
  if (fixChecksum) {
    auto ip = parseIpv6(ipv6Of(frame));
    if (ip.ok()) {
      size_t icmp = 14 + kIpv6HeaderLength;
      frame[icmp + 2] = frame[icmp + 3] = std::byte{0};
      uint16_t sum = icmpv6Checksum(ip->header.source, ip->header.destination, ip->payload);
      frame[icmp + 2] = static_cast<std::byte>(sum >> 8);
      frame[icmp + 3] = static_cast<std::byte>(sum);
    }
  }
  return frame;
}

void setPayloadLength(Bytes& f, size_t length) {
  f[18] = static_cast<std::byte>(length >> 8);
  f[19] = static_cast<std::byte>(length);
}

TEST(NeighborSolicitation, RejectsEveryMalformedKindWithItsReason) {
  constexpr size_t kIcmp = 14 + 40;
  struct Case {
    const char* name;
    Bytes frame;
    DropReason reason;
  };
  std::vector<Case> cases = {
      {"hop limit 254", mutatedSolicitation([](Bytes& f) { f[21] = std::byte{254}; }),
       DropReason::kBadHopLimit},
      {"hop limit 1", mutatedSolicitation([](Bytes& f) { f[21] = std::byte{1}; }),
       DropReason::kBadHopLimit},
      {"code 1", mutatedSolicitation([](Bytes& f) { f[kIcmp + 1] = std::byte{1}; }),
       DropReason::kBadIcmpCode},
      {"bad checksum",
       mutatedSolicitation([](Bytes& f) { f[kIcmp + 3] ^= std::byte{1}; }, false),
       DropReason::kBadChecksum},
      {"icmp length 20", mutatedSolicitation([](Bytes& f) {
         f.resize(kIcmp + 20);
         setPayloadLength(f, 20);
       }),
       DropReason::kBadIcmpLength},
      {"multicast target", mutatedSolicitation([](Bytes& f) {
         f[kIcmp + 8] = std::byte{0xff};
         f[kIcmp + 9] = std::byte{0x02};
       }),
       DropReason::kMulticastTarget},
      {"option length 0", mutatedSolicitation([](Bytes& f) { f[kIcmp + 25] = std::byte{0}; }),
       DropReason::kBadOptionLength},
      {"option past the end", mutatedSolicitation([](Bytes& f) { f[kIcmp + 25] = std::byte{2}; }),
       DropReason::kBadOptionLength},
      {"unspecified source to a unicast destination", mutatedSolicitation([](Bytes& f) {
         f.resize(kIcmp + 24);
         setPayloadLength(f, 24);
         for (size_t i = 22; i < 38; ++i) f[i] = std::byte{0};  // source ::
         for (size_t i = 38; i < 54; ++i) f[i] = f[kIcmp + 8 + (i - 38)];  // destination = target
       }),
       DropReason::kUnspecifiedSourceBadDestination},
      {"unspecified source with a link-layer option", mutatedSolicitation([](Bytes& f) {
         for (size_t i = 22; i < 38; ++i) f[i] = std::byte{0};
       }),
       DropReason::kUnspecifiedSourceWithLinkLayer},
      {"multicast source (found by the fuzzer)", mutatedSolicitation([](Bytes& f) {
         f[22] = std::byte{0xff};
       }),
       DropReason::kMulticastSource},
      {"destination of another group", mutatedSolicitation([](Bytes& f) { f[53] ^= std::byte{1}; }),
       DropReason::kWrongDestination},
      {"not icmpv6", mutatedSolicitation([](Bytes& f) { f[20] = std::byte{17}; }),
       DropReason::kNotIcmpv6},
      {"an echo request", mutatedSolicitation([](Bytes& f) { f[kIcmp] = std::byte{128}; }),
       DropReason::kUnexpectedIcmpv6Type},
      {"payload length past the frame",
       mutatedSolicitation([](Bytes& f) { setPayloadLength(f, 200); }),
       DropReason::kIpv6LengthMismatch},
      {"ipv4 version", mutatedSolicitation([](Bytes& f) { f[14] = std::byte{0x40}; }),
       DropReason::kIpv6BadVersion},
      {"truncated ipv6 header", mutatedSolicitation([](Bytes& f) { f.resize(14 + 30); }),
       DropReason::kTruncated},
  };
  for (const Case& c : cases) {
    auto ns = parseNeighborSolicitation(ipv6Of(c.frame));
    ASSERT_FALSE(ns.ok()) << c.name;
    EXPECT_EQ(dropReasonName(ns.error()), dropReasonName(c.reason)) << c.name;
  }
}

TEST(NeighborSolicitation, AcceptsUnicastSolicitationAndPadding) {
  // Neighbour unreachability detection: NS sent to the target itself.
  Bytes nud = mutatedSolicitation([](Bytes& f) {
    for (size_t i = 38; i < 54; ++i) f[i] = f[14 + 40 + 8 + (i - 38)];
  });
  auto ns = parseNeighborSolicitation(ipv6Of(nud));
  ASSERT_TRUE(ns.ok()) << dropReasonName(ns.error());
  EXPECT_EQ(ns->destination, ns->target);
  // Link-layer padding after the IPv6 payload is ignored.
  Bytes padded = fromHex(testing::kNeighborSolicitationFor200);
  padded.resize(padded.size() + 10);
  EXPECT_TRUE(parseNeighborSolicitation(ipv6Of(padded)).ok());
}

TEST(NeighborAdvertisement, RejectsSolicitedFlagToMulticast) {
  Bytes frame = fromHex(testing::kUnsolicitedAdvertisement);
  frame[14 + 40 + 4] = std::byte{0x60};  // S|O
  auto ip = parseIpv6(ipv6Of(frame));
  uint16_t sum = icmpv6Checksum(ip->header.source, ip->header.destination, ip->payload);
  frame[14 + 40 + 2] = static_cast<std::byte>(sum >> 8);
  frame[14 + 40 + 3] = static_cast<std::byte>(sum);
  auto na = parseNeighborAdvertisement(ipv6Of(frame));
  ASSERT_FALSE(na.ok());
  EXPECT_EQ(na.error(), DropReason::kWrongDestination);
}

}  // namespace
}  // namespace l2a::packet

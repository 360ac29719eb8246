#include "net/neighbor_probe.h"

#include <gtest/gtest.h>

#include "packet/arp.h"
#include "packet/ndp.h"
#include "support/hex.h"
#include "support/packet_vectors.h"

namespace l2a::net {
namespace {

using testing::fromHex;
using testing::toHex;

const packet::MacAddress kClientMac = *packet::MacAddress::parse("02:00:00:00:01:00");
const packet::MacAddress kNodeMac = *packet::MacAddress::parse("02:00:00:00:00:11");
const packet::MacAddress kOtherMac = *packet::MacAddress::parse("02:00:00:00:00:22");

TEST(NeighborProbe, ArpProbeRecognisesTheKernelsReply) {
  NeighborProbe probe(kClientMac, *packet::parseIpAddress("198.18.0.100"),
                      *packet::parseIpAddress("198.18.0.11"));
  auto request = packet::parseArp(packet::parseEthernet(probe.request())->payload);
  EXPECT_EQ(request->senderIp.toString(), "198.18.0.100");
  EXPECT_EQ(request->targetIp.toString(), "198.18.0.11");
  EXPECT_TRUE(probe.observe(fromHex(testing::kKernelArpReply)));
  EXPECT_FALSE(probe.observe(fromHex(testing::kKernelArpReply)));  // same MAC again
  ASSERT_EQ(probe.owners().size(), 1u);
  EXPECT_EQ(probe.owners()[0], kNodeMac);
}

TEST(NeighborProbe, SecondMacIsASecondOwner) {
  NeighborProbe probe(kClientMac, packet::Ipv4Address{}, *packet::parseIpAddress("198.18.0.200"));
  auto v4 = *packet::Ipv4Address::parse("198.18.0.200");
  EXPECT_TRUE(probe.observe(packet::buildGratuitousArp(kNodeMac, v4, packet::GratuitousArpForm::kReply)));
  EXPECT_TRUE(probe.observe(packet::buildGratuitousArp(kOtherMac, v4, packet::GratuitousArpForm::kReply)));
  EXPECT_EQ(probe.owners().size(), 2u);
}

TEST(NeighborProbe, IgnoresAnswersForOtherAddressesAndRequests) {
  NeighborProbe probe(kClientMac, packet::Ipv4Address{}, *packet::parseIpAddress("198.18.0.12"));
  EXPECT_FALSE(probe.observe(fromHex(testing::kKernelArpReply)));  // answers for .11
  EXPECT_FALSE(probe.observe(fromHex(testing::kKernelArpRequest)));
  EXPECT_TRUE(probe.owners().empty());
}

TEST(NeighborProbe, NeighborSolicitationAndAdvertisement) {
  NeighborProbe probe(kClientMac, *packet::parseIpAddress("fe80::ff:fe00:100"),
                      *packet::parseIpAddress("2001:db8::11"));
  auto ns = packet::parseNeighborSolicitation(packet::ByteSpan(probe.request()).subspan(14));
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns->destination.toString(), "ff02::1:ff00:11");
  EXPECT_TRUE(probe.observe(fromHex(testing::kKernelNeighborAdvertisement)));
  EXPECT_EQ(probe.owners()[0], kNodeMac);
}

TEST(NeighborProbe, IgnoresInvalidAdvertisements) {
  NeighborProbe probe(kClientMac, *packet::parseIpAddress("fe80::ff:fe00:100"),
                      *packet::parseIpAddress("2001:db8::11"));
  packet::Bytes bad = fromHex(testing::kKernelNeighborAdvertisement);
  bad[21] = std::byte{64};  // hop limit
  EXPECT_FALSE(probe.observe(bad));
  EXPECT_TRUE(probe.owners().empty());
}

}  // namespace
}  // namespace l2a::net

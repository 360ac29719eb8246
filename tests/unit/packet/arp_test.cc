#include "packet/arp.h"

#include <gtest/gtest.h>

#include "support/hex.h"
#include "support/packet_vectors.h"

namespace l2a::packet {
namespace {

using testing::fromHex;
using testing::toHex;

const MacAddress kNodeMac = *MacAddress::parse("02:00:00:00:00:11");
const MacAddress kClientMac = *MacAddress::parse("02:00:00:00:01:00");

TEST(Arp, ParsesKernelRequest) {
  Bytes frame = fromHex(testing::kKernelArpRequest);
  auto eth = parseEthernet(frame);
  ASSERT_TRUE(eth.ok());
  auto arp = parseArp(eth->payload);
  ASSERT_TRUE(arp.ok());
  EXPECT_EQ(arp->operation, kArpRequest);
  EXPECT_EQ(arp->senderMac, kClientMac);
  EXPECT_EQ(arp->senderIp.toString(), "198.18.0.100");
  EXPECT_TRUE(arp->targetMac.isZero());
  EXPECT_EQ(arp->targetIp.toString(), "198.18.0.11");
}

TEST(Arp, ReplyIsByteIdenticalToTheKernels) {
  Bytes request = fromHex(testing::kKernelArpRequest);
  auto eth = parseEthernet(request);
  auto arp = parseArp(eth->payload);
  EXPECT_EQ(toHex(buildArpReply(kNodeMac, eth->header, *arp)),
            toHex(fromHex(testing::kKernelArpReply)));
}

TEST(Arp, ReplyKeepsTheRequestsVlanTag) {
  EthernetHeader eth{.destination = MacAddress::broadcast(), .source = kClientMac, .vlanTci = 100};
  ArpPacket request{.operation = kArpRequest,
                    .senderMac = kClientMac,
                    .senderIp = *Ipv4Address::parse("198.18.0.100"),
                    .targetIp = *Ipv4Address::parse("198.18.0.11")};
  EXPECT_EQ(toHex(buildArpReply(kNodeMac, eth, request)),
            "020000000100020000000011810000640806000108000604000202000000001"
            "1c612000b020000000100c6120064");
}

TEST(Arp, GratuitousRequestFormByteExact) {
  // RFC 5227 ARP Announcement: broadcast request, sender IP = target IP, target MAC zero.
  EXPECT_EQ(toHex(buildGratuitousArp(kNodeMac, *Ipv4Address::parse("198.18.0.200"),
                                     GratuitousArpForm::kRequest)),
            "ffffffffffff0200000000110806000108000604000102000000001"
            "1c61200c8000000000000c61200c8");
}

TEST(Arp, GratuitousReplyFormNamesTheSenderAsTarget) {
  EXPECT_EQ(toHex(buildGratuitousArp(kNodeMac, *Ipv4Address::parse("198.18.0.200"),
                                     GratuitousArpForm::kReply)),
            "ffffffffffff0200000000110806000108000604000202000000001"
            "1c61200c8020000000011c61200c8");
}

TEST(Arp, ProbeRequestHasZeroSender) {
  EXPECT_EQ(toHex(buildArpRequest(kClientMac, Ipv4Address{}, *Ipv4Address::parse("198.18.0.11"))),
            "ffffffffffff02000000010008060001080006040001020000000100"
            "00000000000000000000c612000b");
}

TEST(Arp, RejectsMalformedPayloads) {
  struct Case {
    const char* name;
    const char* hex;
    DropReason reason;
  };
  const Case cases[] = {
      {"empty", "", DropReason::kTruncated},
      {"cut in the target ip", "0001 0800 06 04 0001 020000000100 c6120064 000000000000 c612",
       DropReason::kTruncated},
      {"token ring hardware", "0006 0800 06 04 0001 020000000100 c6120064 000000000000 c612000b",
       DropReason::kArpBadFormat},
      {"ipv6 protocol", "0001 86dd 06 04 0001 020000000100 c6120064 000000000000 c612000b",
       DropReason::kArpBadFormat},
      {"hardware length 8", "0001 0800 08 04 0001 020000000100 c6120064 000000000000 c612000b",
       DropReason::kArpBadFormat},
      {"protocol length 16", "0001 0800 06 10 0001 020000000100 c6120064 000000000000 c612000b",
       DropReason::kArpBadFormat},
  };
  for (const Case& c : cases) {
    auto arp = parseArp(fromHex(c.hex));
    ASSERT_FALSE(arp.ok()) << c.name;
    EXPECT_EQ(arp.error(), c.reason) << c.name;
  }
}

}  // namespace
}  // namespace l2a::packet

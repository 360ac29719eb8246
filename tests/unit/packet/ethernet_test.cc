#include "packet/ethernet.h"

#include <gtest/gtest.h>

#include "support/hex.h"

namespace l2a::packet {
namespace {

using testing::fromHex;
using testing::toHex;

TEST(Ethernet, ParsesUntaggedHeaderAndPayload) {
  Bytes frame = fromHex("ffffffffffff 020000000100 0806 abcd");
  auto parsed = parseEthernet(frame);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->header.destination, MacAddress::broadcast());
  EXPECT_EQ(parsed->header.source.toString(), "02:00:00:00:01:00");
  EXPECT_FALSE(parsed->header.vlanTci.has_value());
  EXPECT_EQ(parsed->header.etherType, kEtherTypeArp);
  EXPECT_EQ(toHex(parsed->payload), "abcd");
}

TEST(Ethernet, Parses8021QTagAndInnerType) {
  Bytes frame = fromHex("ffffffffffff 020000000100 8100 2064 86dd 60");
  auto parsed = parseEthernet(frame);
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->header.vlanTci.has_value());
  EXPECT_EQ(*parsed->header.vlanTci & 0x0fff, 100);
  EXPECT_EQ(*parsed->header.vlanTci >> 13, 1);  // priority
  EXPECT_EQ(parsed->header.etherType, kEtherTypeIpv6);
  EXPECT_EQ(toHex(parsed->payload), "60");
}

TEST(Ethernet, BuildsTaggedHeaderByteExact) {
  Bytes out;
  ByteWriter w(out);
  writeEthernetHeader(w, {.destination = MacAddress::broadcast(),
                          .source = *MacAddress::parse("02:00:00:00:01:00"),
                          .vlanTci = 0x0064,
                          .etherType = kEtherTypeArp});
  EXPECT_EQ(toHex(out), "ffffffffffff0200000001008100006408" "06");
}

TEST(Ethernet, RejectsTruncatedFrames) {
  for (const char* hex : {"", "ffffffffffff", "ffffffffffff020000000100", "ffffffffffff0200000001008100",
                          "ffffffffffff02000000010081000064"}) {
    auto parsed = parseEthernet(fromHex(hex));
    ASSERT_FALSE(parsed.ok()) << hex;
    EXPECT_EQ(parsed.error(), DropReason::kTruncated) << hex;
  }
}

TEST(MacAddress, ParsesAndFormats) {
  auto mac = MacAddress::parse("02:AB:cd:00:01:ff");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->toString(), "02:ab:cd:00:01:ff");
  EXPECT_FALSE(mac->isMulticast());
  EXPECT_TRUE(MacAddress::parse("33:33:00:00:00:01")->isMulticast());
  for (const char* bad : {"", "02:ab:cd:00:01", "02:ab:cd:00:01:ff:00", "02-ab-cd-00-01-ff", "0g:00:00:00:00:00"}) {
    EXPECT_FALSE(MacAddress::parse(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace l2a::packet

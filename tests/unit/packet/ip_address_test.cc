#include "packet/ip_address.h"

#include <gtest/gtest.h>

namespace l2a::packet {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndRejectsGarbage) {
  auto v4 = parseIpAddress("198.18.0.1");
  ASSERT_TRUE(v4.has_value());
  EXPECT_TRUE(std::holds_alternative<Ipv4Address>(*v4));
  EXPECT_EQ(toString(*v4), "198.18.0.1");
  auto v6 = parseIpAddress("2001:DB8::1");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(std::holds_alternative<Ipv6Address>(*v6));
  EXPECT_EQ(toString(*v6), "2001:db8::1");
  for (const char* bad : {"", "198.18.0", "198.18.0.256", "2001:db8:::1", "eth0", "198.18.0.1/32"}) {
    EXPECT_FALSE(parseIpAddress(bad).has_value()) << bad;
  }
}

TEST(Ipv6Address, SolicitedNodeGroupAndItsMac) {
  auto a = *Ipv6Address::parse("2001:db8::12:3456:789a");
  EXPECT_EQ(a.solicitedNode().toString(), "ff02::1:ff56:789a");
  EXPECT_EQ(a.solicitedNode().multicastMac().toString(), "33:33:ff:56:78:9a");
  EXPECT_EQ(Ipv6Address::allNodes().multicastMac().toString(), "33:33:00:00:00:01");
  EXPECT_TRUE(Ipv6Address::parse("fe80::1")->isLinkLocal());
  EXPECT_FALSE(a.isLinkLocal());
  EXPECT_TRUE(Ipv6Address::parse("::")->isUnspecified());
}

}  // namespace
}  // namespace l2a::packet

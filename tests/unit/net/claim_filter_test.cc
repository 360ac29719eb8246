#include "net/claim_filter.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "packet/arp.h"
#include "packet/ndp.h"

namespace l2a::net {
namespace {

using packet::Bytes;
using packet::IpAddress;
using packet::Ipv4Address;
using packet::Ipv6Address;
using Range = ClaimFilter::Range;

const packet::MacAddress kMac = *packet::MacAddress::parse("02:00:00:00:00:66");
const Ipv4Address kClient4 = *Ipv4Address::parse("198.18.0.66");
const Ipv6Address kClient6 = *Ipv6Address::parse("2001:db8::66");

Ipv4Address v4(const char* text) { return *Ipv4Address::parse(text); }
Ipv6Address v6(const char* text) { return *Ipv6Address::parse(text); }

// The program runs in the kernel, not in a model of it: attached to the receiving end of a
// datagram socket pair, it drops what it does not pass (the sender is not told), and its
// loads read the datagram from its first byte, as a packet socket's read the Ethernet header.
class KernelFilter {
 public:
  explicit KernelFilter(std::span<const IpAddress> claimed) {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds_.data()), 0);
    auto program = ClaimFilter::program(claimed);
    size = program.size();
    sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    attached = setsockopt(fds_[1], SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) == 0;
    if (!attached) ADD_FAILURE() << "the kernel refused the program: " << std::strerror(errno);
  }
  ~KernelFilter() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  bool passes(const Bytes& frame) {
    EXPECT_EQ(::send(fds_[0], frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
    std::array<std::byte, 2048> buffer;
    ssize_t n = ::recv(fds_[1], buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN);
      return false;
    }
    EXPECT_EQ(static_cast<size_t>(n), frame.size());  // never cut short
    return true;
  }
  bool attached = false;
  size_t size = 0;

 private:
  std::array<int, 2> fds_{-1, -1};
};

Bytes arpRequest(const Ipv4Address& target) { return packet::buildArpRequest(kMac, kClient4, target); }
Bytes ns(const Ipv6Address& target) { return packet::buildNeighborSolicitation(kMac, kClient6, target); }

TEST(ClaimFilter, CoverKeepsRunsAndClosesTheSmallestGapsFirst) {
  EXPECT_EQ(ClaimFilter::cover({7, 3, 4, 5, 7, 20}, 8), (std::vector<Range>{{3, 5}, {7, 7}, {20, 20}}));
  EXPECT_EQ(ClaimFilter::cover({3, 4, 5, 7, 20}, 2), (std::vector<Range>{{3, 7}, {20, 20}}));
  EXPECT_EQ(ClaimFilter::cover({3, 4, 5, 7, 20}, 1), (std::vector<Range>{{3, 20}}));
  EXPECT_EQ(ClaimFilter::cover({0xffffffff, 0, 1}, 4), (std::vector<Range>{{0, 1}, {0xffffffff, 0xffffffff}}));
  std::vector<uint32_t> scattered;
  for (uint32_t i = 0; i < 1000; ++i) scattered.push_back(i * 7 + (i % 3));
  auto ranges = ClaimFilter::cover(scattered, 16);
  ASSERT_EQ(ranges.size(), 16u);
  for (uint32_t value : scattered) {
    EXPECT_TRUE(std::any_of(ranges.begin(), ranges.end(), [value](const Range& r) {
      return r.first <= value && value <= r.last;
    })) << value;
  }
}

TEST(ClaimFilter, PassesOnlyTrafficAboutClaimedAddresses) {
  std::vector<IpAddress> claimed{v4("198.18.0.10"), v4("198.18.0.20"), v4("198.18.0.21"), v4("198.18.0.22"),
                                 v6("2001:db8::10"), v6("2001:db8:1::5")};
  KernelFilter filter(claimed);
  ASSERT_TRUE(filter.attached);
  EXPECT_TRUE(filter.passes(arpRequest(v4("198.18.0.10"))));
  EXPECT_TRUE(filter.passes(arpRequest(v4("198.18.0.21"))));
  EXPECT_FALSE(filter.passes(arpRequest(v4("198.18.0.11"))));
  EXPECT_FALSE(filter.passes(arpRequest(v4("198.18.0.23"))));
  EXPECT_FALSE(filter.passes(arpRequest(v4("198.18.1.10"))));
  // Another node announcing or answering for one of ours: a conflict the responder must see.
  EXPECT_TRUE(filter.passes(packet::buildGratuitousArp(kMac, v4("198.18.0.22"), packet::GratuitousArpForm::kReply)));
  EXPECT_TRUE(filter.passes(packet::buildArpRequest(kMac, Ipv4Address{}, v4("198.18.0.20"))));  // RFC 5227 probe
  Bytes reply = packet::buildArpRequest(kMac, v4("198.18.0.20"), kClient4);
  reply[21] = std::byte{2};  // operation: reply, from a claimed sender
  EXPECT_TRUE(filter.passes(reply));
  Bytes rarp = arpRequest(v4("198.18.0.10"));
  rarp[21] = std::byte{3};
  EXPECT_FALSE(filter.passes(rarp));
  Bytes truncated = arpRequest(v4("198.18.0.11"));
  truncated.resize(34);  // the responder counts it
  EXPECT_TRUE(filter.passes(truncated));

  EXPECT_TRUE(filter.passes(ns(v6("2001:db8::10"))));
  EXPECT_TRUE(filter.passes(ns(v6("2001:db8:1::5"))));
  EXPECT_TRUE(filter.passes(packet::buildUnsolicitedAdvertisement(kMac, v6("2001:db8:1::5"))));
  EXPECT_FALSE(filter.passes(ns(v6("2001:db8::11"))));
  EXPECT_FALSE(filter.passes(ns(v6("2001:db8:2::10"))));  // another prefix, the same last word
  EXPECT_FALSE(filter.passes(ns(v6("2001:db9::10"))));
  Bytes shortNs = ns(v6("2001:db8::11"));
  shortNs.resize(70);
  EXPECT_TRUE(filter.passes(shortNs));
  Bytes ipv4(60, std::byte{0});
  ipv4[12] = std::byte{0x08};  // EtherType IPv4
  EXPECT_FALSE(filter.passes(ipv4));
}

TEST(ClaimFilter, NothingClaimedPassesNoRequest) {
  KernelFilter filter({});
  ASSERT_TRUE(filter.attached);
  EXPECT_FALSE(filter.passes(arpRequest(v4("198.18.0.10"))));
  EXPECT_FALSE(filter.passes(ns(v6("2001:db8::10"))));
  EXPECT_FALSE(filter.passes(packet::buildGratuitousArp(kMac, v4("198.18.0.10"), packet::GratuitousArpForm::kRequest)));
}

// 10,000 addresses scattered over a pool: the kernel takes the program (it stays small), every
// claimed address passes, and what lies outside the pool does not.
TEST(ClaimFilter, TenThousandScatteredClaimsAllPassInASmallProgram) {
  std::vector<IpAddress> claimed;
  for (uint32_t i = 0; i < 9000; ++i) {
    uint32_t host = i * 5 + (i * 7919) % 3;
    claimed.push_back(Ipv4Address{{198, 19, static_cast<uint8_t>(host >> 8), static_cast<uint8_t>(host)}});
  }
  for (uint16_t i = 0; i < 1000; ++i) {
    Ipv6Address a = v6("2001:db8::");
    a.octets[5] = static_cast<uint8_t>(i % 4);  // four /96 prefixes
    a.octets[14] = static_cast<uint8_t>(i >> 4);
    a.octets[15] = static_cast<uint8_t>(i * 3);
    claimed.push_back(a);
  }
  KernelFilter filter(claimed);
  ASSERT_TRUE(filter.attached);
  EXPECT_LE(filter.size, 700u);
  for (const IpAddress& address : claimed) {
    if (const auto* a = std::get_if<Ipv4Address>(&address)) {
      ASSERT_TRUE(filter.passes(arpRequest(*a))) << a->toString();
    } else {
      ASSERT_TRUE(filter.passes(ns(std::get<Ipv6Address>(address)))) << packet::toString(address);
    }
  }
  EXPECT_FALSE(filter.passes(arpRequest(v4("198.18.0.10"))));
  EXPECT_FALSE(filter.passes(arpRequest(v4("198.19.250.1"))));
  EXPECT_FALSE(filter.passes(ns(v6("2001:db8:0:9::1"))));
}

TEST(ClaimFilter, BeyondItsPrefixesEveryNeighborSolicitationPasses) {
  std::vector<IpAddress> claimed{v4("198.18.0.10")};
  for (uint8_t i = 0; i <= ClaimFilter::kMaxIpv6Prefixes; ++i) {
    Ipv6Address a = v6("2001:db8::1");
    a.octets[3] = i;
    claimed.push_back(a);
  }
  KernelFilter filter(claimed);
  ASSERT_TRUE(filter.attached);
  EXPECT_TRUE(filter.passes(ns(v6("2001:db9::77"))));
  EXPECT_FALSE(filter.passes(arpRequest(v4("198.18.0.11"))));
}

}  // namespace
}  // namespace l2a::net

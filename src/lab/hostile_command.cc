#include "lab/hostile_command.h"

#include <fmt/format.h>
#include <poll.h>

#include <array>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "lab/client_interface.h"
#include "net/packet_socket.h"
#include "packet/arp.h"
#include "packet/ethernet.h"
#include "packet/ipv6.h"
#include "packet/ndp.h"

namespace l2a::lab {
namespace {

using Clock = std::chrono::steady_clock;
using packet::Bytes;
using packet::Ipv4Address;
using packet::Ipv6Address;
using packet::MacAddress;

// Offsets in the untagged frames the builders make: Ethernet 14, ARP body 28; IPv6 header 40,
// then the ICMPv6 Neighbor Solicitation (type, code, checksum, reserved, target, options).
constexpr size_t kArp = 14;
constexpr size_t kIpv6 = 14;
constexpr size_t kIcmp = 14 + 40;

void put16(Bytes& frame, size_t at, uint16_t value) {
  frame[at] = std::byte(value >> 8);
  frame[at + 1] = std::byte(value & 0xff);
}

Ipv6Address ipv6At(const Bytes& frame, size_t at) {
  Ipv6Address a;
  for (size_t i = 0; i < 16; ++i) a.octets[i] = std::to_integer<uint8_t>(frame[at + i]);
  return a;
}

void putIpv6(Bytes& frame, size_t at, const Ipv6Address& a) {
  for (size_t i = 0; i < 16; ++i) frame[at + i] = std::byte(a.octets[i]);
}

// Recomputes the ICMPv6 checksum so that only the intended defect remains.
void fixChecksum(Bytes& frame) {
  put16(frame, kIcmp + 2, 0);
  size_t end = std::min(frame.size(), kIcmp + ((std::to_integer<size_t>(frame[kIpv6 + 4]) << 8) |
                                               std::to_integer<size_t>(frame[kIpv6 + 5])));
  packet::ByteSpan message(frame.data() + kIcmp, end - kIcmp);
  put16(frame, kIcmp + 2, packet::icmpv6Checksum(ipv6At(frame, kIpv6 + 8), ipv6At(frame, kIpv6 + 24), message));
}

struct Case {
  std::string name;
  bool expectAnswer;
  std::vector<Bytes> frames;
};

std::vector<Case> buildCases(const MacAddress& mac, const Ipv4Address& source4, const Ipv4Address& target4,
                             const Ipv6Address& source6, const Ipv6Address& target6) {
  const Bytes arp = packet::buildArpRequest(mac, source4, target4);
  const Bytes ns = packet::buildNeighborSolicitation(mac, source6, target6);
  auto arpWith = [&](const std::function<void(Bytes&)>& change) {
    Bytes f = arp;
    change(f);
    return f;
  };
  auto nsWith = [&](const std::function<void(Bytes&)>& change, bool checksum = true) {
    Bytes f = ns;
    change(f);
    if (checksum) fixChecksum(f);
    return f;
  };
  MacAddress foreign = *MacAddress::parse("02:66:66:66:66:66");
  std::vector<Case> cases;
  cases.push_back({"valid ARP request (control)", true, {arp}});
  cases.push_back({"valid Neighbor Solicitation (control)", true, {ns}});
  cases.push_back({"ARP padded to a full 1514-byte frame (valid, as Linux answers it)", true,
                   {arpWith([](Bytes& f) { f.resize(1514); })}});
  cases.push_back({"ARP truncated to 20 bytes of body", false, {arpWith([](Bytes& f) { f.resize(kArp + 20); })}});
  cases.push_back({"ARP with hardware type 6 (IEEE 802)", false, {arpWith([](Bytes& f) { put16(f, kArp, 6); })}});
  cases.push_back({"ARP with hardware length 8", false, {arpWith([](Bytes& f) { f[kArp + 4] = std::byte{8}; })}});
  cases.push_back({"ARP with operation 3 (RARP)", false, {arpWith([](Bytes& f) { put16(f, kArp + 6, 3); })}});
  cases.push_back({"ARP from a spoofed broadcast sender MAC", false, {arpWith([](Bytes& f) {
                     for (size_t i = 0; i < 6; ++i) f[kArp + 8 + i] = std::byte{0xff};
                   })}});
  cases.push_back({"ARP tagged with 802.1Q VLAN 7", false, {arpWith([](Bytes& f) {
                     Bytes tag{std::byte{0x81}, std::byte{0x00}, std::byte{0x00}, std::byte{0x07}};
                     f.insert(f.begin() + 12, tag.begin(), tag.end());
                   })}});
  {
    // A storm of gratuitous ARPs from another MAC claiming the address: a conflict to count,
    // never something to answer.
    Bytes garp = packet::buildGratuitousArp(foreign, target4, packet::GratuitousArpForm::kRequest);
    cases.push_back({"gratuitous ARP storm (1,000) from another MAC for the claimed address", false,
                     std::vector<Bytes>(1000, garp)});
  }
  cases.push_back({"ARP for an address nobody claims", false, {arpWith([](Bytes& f) { f[kArp + 27] = std::byte{0xfe}; })}});
  cases.push_back({"NS with hop limit 254 (RFC 4861 wants 255)", false,
                   {nsWith([](Bytes& f) { f[kIpv6 + 7] = std::byte{254}; }, false)}});
  cases.push_back({"NS with a wrong ICMPv6 checksum", false,
                   {nsWith([](Bytes& f) { f[kIcmp + 2] ^= std::byte{0x5a}; }, false)}});
  cases.push_back({"NS with ICMP code 1", false, {nsWith([](Bytes& f) { f[kIcmp + 1] = std::byte{1}; })}});
  cases.push_back({"NS from a multicast source address (ff02::1)", false,
                   {nsWith([](Bytes& f) { putIpv6(f, kIpv6 + 8, Ipv6Address::allNodes()); })}});
  cases.push_back({"NS for a multicast target", false,
                   {nsWith([](Bytes& f) { putIpv6(f, kIcmp + 8, Ipv6Address::allNodes()); })}});
  cases.push_back({"NS with an option of length 0", false, {nsWith([](Bytes& f) { f[kIcmp + 25] = std::byte{0}; })}});
  cases.push_back({"NS with a payload length past the end of the frame", false,
                   {nsWith([](Bytes& f) { put16(f, kIpv6 + 4, 1000); }, false)}});
  cases.push_back({"NS with IP version 4 in the IPv6 header", false,
                   {nsWith([](Bytes& f) { f[kIpv6] = std::byte{0x40}; }, false)}});
  cases.push_back({"NS sent to an unrelated unicast address", false,
                   {nsWith([&](Bytes& f) { putIpv6(f, kIpv6 + 24, source6); })}});
  cases.push_back({"NS from :: (DAD) carrying a source link-layer option", false,
                   {nsWith([](Bytes& f) { putIpv6(f, kIpv6 + 8, Ipv6Address{}); })}});
  cases.push_back({"NS truncated inside the target address", false, {nsWith([](Bytes& f) { f.resize(kIcmp + 16); }, false)}});
  cases.push_back({"valid ARP request after everything (control)", true, {arp}});
  cases.push_back({"valid Neighbor Solicitation after everything (control)", true, {ns}});
  return cases;
}

// An answer to our question: an ARP reply addressed to us (not a gratuitous one) or a Neighbor
// Advertisement to us or for the claimed IPv6 address (an answer to a DAD-style question goes
// to all-nodes). The responder's own claim announcements are over before the cases start.
bool isAnswer(packet::ByteSpan frame, const MacAddress& ours, const Ipv4Address& source4,
              const Ipv6Address& target6) {
  auto eth = packet::parseEthernet(frame);
  if (!eth || eth->header.source == ours) return false;
  if (eth->header.etherType == packet::kEtherTypeArp) {
    auto arp = packet::parseArp(eth->payload);
    return arp && arp->operation == packet::kArpReply && arp->senderIp != arp->targetIp &&
           (arp->targetIp == source4 || eth->header.destination == ours);
  }
  if (eth->header.etherType != packet::kEtherTypeIpv6) return false;
  auto na = packet::parseNeighborAdvertisement(eth->payload);
  return na && (eth->header.destination == ours || na->target == target6);
}

int usage(const std::string& message) {
  fmt::print(stderr, "l2a-lab: error: {}\n", message);
  return 64;
}

}  // namespace

int runHostile(const HostileOptions& options) {
  auto target4 = Ipv4Address::parse(options.target4);
  auto target6 = Ipv6Address::parse(options.target6);
  if (!target4 || !target6) return usage("hostile needs --target4 IPV4 and --target6 IPV6");
  if (options.listenMs <= 0 || options.floodMs < 0) return usage("--listen-ms must be positive, --flood-ms not negative");
  auto client = findClientInterface(options.interface);
  if (!client) {
    if (client.error().code == "usage") return usage(client.error().message);
    fmt::print(stderr, "l2a-lab: error: {}\n", client.error().message);
    return 1;
  }
  int ifindex = client->ifindex;
  const MacAddress& mac = client->mac;
  const std::optional<Ipv4Address>& source4 = client->ipv4;
  const std::optional<Ipv6Address>& source6 = client->ipv6;
  if (!source4 || !source6) return usage(fmt::format("{} needs an IPv4 and a global IPv6 address", options.interface));
  auto sock = net::PacketSocket::open(ifindex, net::FrameFilter::kReplies);
  if (!sock) {
    fmt::print(stderr, "l2a-lab: error: {}\n", sock.error().message);
    return 1;
  }
  std::array<std::byte, 2048> buffer;
  auto drainAnswers = [&] {
    int answers = 0;
    while (auto n = sock->receive(buffer)) {
      if (isAnswer(packet::ByteSpan(buffer.data(), *n), mac, *source4, *target6)) ++answers;
    }
    return answers;
  };

  if (options.floodMs > 0) {
    // Valid ARP requests and NSs, alternating, as fast as this thread can send them.
    Bytes arp = packet::buildArpRequest(mac, *source4, *target4);
    Bytes ns = packet::buildNeighborSolicitation(mac, *source6, *target6);
    auto end = Clock::now() + std::chrono::milliseconds(options.floodMs);
    int64_t sent = 0, answered = 0;
    while (Clock::now() < end) {
      for (int i = 0; i < 64; ++i) sent += sock->send((i & 1) ? ns : arp) ? 1 : 0;
      answered += drainAnswers();
    }
    auto tail = Clock::now() + std::chrono::milliseconds(options.listenMs);
    while (Clock::now() < tail) {
      pollfd pfd{sock->fd(), POLLIN, 0};
      poll(&pfd, 1, 10);
      answered += drainAnswers();
    }
    fmt::print("{}\n", nlohmann::json{{"floodMs", options.floodMs}, {"sent", sent}, {"answered", answered}}.dump());
    return 0;
  }

  auto cases = buildCases(mac, *source4, *target4, *source6, *target6);
  nlohmann::json out = nlohmann::json::array();
  bool allAsExpected = true;
  for (const Case& c : cases) {
    drainAnswers();
    int sent = 0;
    for (const auto& frame : c.frames) sent += sock->send(frame) ? 1 : 0;
    int answers = 0;
    auto until = Clock::now() + std::chrono::milliseconds(options.listenMs);
    for (auto now = Clock::now(); now < until; now = Clock::now()) {
      pollfd pfd{sock->fd(), POLLIN, 0};
      poll(&pfd, 1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count()));
      answers += drainAnswers();
    }
    bool answered = answers > 0;
    bool ok = answered == c.expectAnswer && sent == static_cast<int>(c.frames.size());
    allAsExpected = allAsExpected && ok;
    out.push_back({{"case", c.name}, {"sent", sent}, {"answers", answers}, {"expectAnswer", c.expectAnswer}, {"ok", ok}});
  }
  fmt::print("{}\n", out.dump());
  return allAsExpected ? 0 : 1;
}

}  // namespace l2a::lab

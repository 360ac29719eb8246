#include "net/claim_filter.h"

#include <linux/if_ether.h>

#include <algorithm>
#include <array>
#include <map>
#include <numeric>

namespace l2a::net {
namespace {

constexpr uint32_t kPass = 0x40000;     // the whole frame
constexpr uint32_t kArpSenderIp = 28;   // 14 + 14
constexpr uint32_t kArpTargetIp = 38;   // 14 + 24
constexpr uint32_t kArpFrameEnd = 42;   // 14 + 28
constexpr uint32_t kNdpTarget = 62;     // 14 + 40 + 8
constexpr uint32_t kNdpFrameEnd = 78;   // past the target

uint32_t word(const uint8_t* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3];
}

// Conditional jumps reach at most 255 instructions ahead: every test here passes or drops right
// after itself, and the one long way (ARP to IPv6) is an unconditional jump.
struct Assembler {
  std::vector<sock_filter> code;

  void stmt(uint16_t op, uint32_t k) { code.push_back(BPF_STMT(op, k)); }
  void jump(uint16_t op, uint32_t k, uint8_t yes, uint8_t no) {
    code.push_back(BPF_JUMP(BPF_JMP | op | BPF_K, k, yes, no));
  }
  void load(uint16_t size, uint32_t offset) { stmt(BPF_LD | size | BPF_ABS, offset); }
  void pass() { stmt(BPF_RET | BPF_K, kPass); }
  void drop() { stmt(BPF_RET | BPF_K, 0); }
  void dropUnless(uint32_t value) {
    jump(BPF_JEQ, value, 1, 0);
    drop();
  }
  void dropUnlessEither(uint32_t a, uint32_t b) {
    jump(BPF_JEQ, a, 2, 0);
    jump(BPF_JEQ, b, 1, 0);
    drop();
  }
  // A frame too short for the fields tested next goes up, to be counted as truncated.
  void passShorterThan(uint32_t length) {
    stmt(BPF_LD | BPF_W | BPF_LEN, 0);
    jump(BPF_JGE, length, 1, 0);
    pass();
  }
  static size_t size(const std::vector<ClaimFilter::Range>& ranges) {
    size_t n = 0;
    for (const auto& r : ranges) n += r.first == r.last ? 2 : 3;
    return n;
  }
  // Passes the frame when the accumulator is in one of `ranges`.
  void passIn(const std::vector<ClaimFilter::Range>& ranges) {
    for (const auto& r : ranges) {
      if (r.first == r.last) {
        jump(BPF_JEQ, r.first, 0, 1);
      } else {
        jump(BPF_JGE, r.first, 0, 2);
        jump(BPF_JGT, r.last, 1, 0);
      }
      pass();
    }
  }
};

}  // namespace

std::vector<ClaimFilter::Range> ClaimFilter::cover(std::vector<uint32_t> values, size_t maxRanges) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<Range> runs;
  for (uint32_t v : values) {
    if (!runs.empty() && runs.back().last + 1 == v) {
      runs.back().last = v;
    } else {
      runs.push_back({v, v});
    }
  }
  maxRanges = std::max<size_t>(maxRanges, 1);
  if (runs.size() <= maxRanges) return runs;
  // Keep the widest maxRanges - 1 gaps apart; close the others.
  std::vector<size_t> gaps(runs.size() - 1);
  std::iota(gaps.begin(), gaps.end(), 1);
  auto width = [&runs](size_t i) { return runs[i].first - runs[i - 1].last; };
  std::stable_sort(gaps.begin(), gaps.end(), [&](size_t a, size_t b) { return width(a) > width(b); });
  std::vector<bool> apart(runs.size(), false);
  for (size_t i = 0; i + 1 < maxRanges; ++i) apart[gaps[i]] = true;
  std::vector<Range> merged{runs.front()};
  for (size_t i = 1; i < runs.size(); ++i) {
    if (apart[i]) {
      merged.push_back(runs[i]);
    } else {
      merged.back().last = runs[i].last;
    }
  }
  return merged;
}

std::vector<sock_filter> ClaimFilter::program(std::span<const packet::IpAddress> claimed) {
  std::vector<uint32_t> v4;
  std::map<std::array<uint32_t, 3>, std::vector<uint32_t>> v6;  // by /96 prefix: the last words
  for (const packet::IpAddress& address : claimed) {
    if (const auto* a = std::get_if<packet::Ipv4Address>(&address)) {
      v4.push_back(word(a->octets.data()));
    } else {
      const auto& o = std::get<packet::Ipv6Address>(address).octets;
      v6[{word(&o[0]), word(&o[4]), word(&o[8])}].push_back(word(&o[12]));
    }
  }

  Assembler a;
  a.load(BPF_W, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT));
  a.dropUnless(0);  // tagged: the VLAN's own interface has it
  a.load(BPF_H, 12);
  a.jump(BPF_JEQ, ETH_P_IPV6, 0, 1);
  size_t toIpv6 = a.code.size();
  a.stmt(BPF_JMP | BPF_JA, 0);  // set below
  a.dropUnless(ETH_P_ARP);
  a.load(BPF_H, 20);
  a.dropUnlessEither(1, 2);  // request, reply
  a.passShorterThan(kArpFrameEnd);
  if (!v4.empty()) {
    auto ranges = cover(std::move(v4), kMaxIpv4Ranges);
    a.load(BPF_W, kArpTargetIp);
    a.passIn(ranges);
    a.load(BPF_W, kArpSenderIp);
    a.passIn(ranges);
  }
  a.drop();

  a.code[toIpv6].k = static_cast<uint32_t>(a.code.size() - toIpv6 - 1);
  a.load(BPF_B, 20);
  a.dropUnless(58);  // ICMPv6, no extension headers
  a.load(BPF_B, 54);
  a.dropUnlessEither(135, 136);  // NS, NA
  a.passShorterThan(kNdpFrameEnd);
  if (v6.size() > kMaxIpv6Prefixes) {
    a.pass();
    return std::move(a.code);
  }
  size_t perPrefix = v6.empty() ? 0 : std::max<size_t>(1, kMaxIpv6Ranges / v6.size());
  for (auto& [prefix, lows] : v6) {
    auto ranges = cover(std::move(lows), perPrefix);
    // Each word of the prefix that differs skips to the next prefix.
    auto rest = static_cast<uint8_t>(Assembler::size(ranges) + 1);
    a.load(BPF_W, kNdpTarget);
    a.jump(BPF_JEQ, prefix[0], 0, static_cast<uint8_t>(rest + 4));
    a.load(BPF_W, kNdpTarget + 4);
    a.jump(BPF_JEQ, prefix[1], 0, static_cast<uint8_t>(rest + 2));
    a.load(BPF_W, kNdpTarget + 8);
    a.jump(BPF_JEQ, prefix[2], 0, rest);
    a.load(BPF_W, kNdpTarget + 12);
    a.passIn(ranges);
  }
  a.drop();
  return std::move(a.code);
}

}  // namespace l2a::net

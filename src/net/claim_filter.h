// ClaimFilter: the classic BPF program of a responder's packet socket once its claims are known.
// The kernel then drops, before any wake-up, the ARP and NDP traffic about addresses this node
// does not answer for. Pure functions over values; any thread.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "packet/ip_address.h"

namespace l2a::net {

class ClaimFilter {
 public:
  // What reaches user space: untagged ARP requests and replies whose target or sender is one of
  // `claimed` (a request to answer; another node's announcement or probe, a conflict), and
  // untagged ICMPv6 NS and NA without extension headers whose target is one of them. Frames too
  // short to hold those fields pass, for the responder to count as truncated. The addresses
  // are matched as ranges, at most kMaxIpv4Ranges and kMaxIpv6Ranges (in at most
  // kMaxIpv6Prefixes /96 prefixes): beyond that, the closest ranges are merged, so the program
  // stays small and a few addresses no one claims pass as well — never one that is claimed.
  // More /96 prefixes than that: every NS and NA passes.
  static std::vector<sock_filter> program(std::span<const packet::IpAddress> claimed);
  static constexpr size_t kMaxIpv4Ranges = 64;
  static constexpr size_t kMaxIpv6Ranges = 32;
  static constexpr size_t kMaxIpv6Prefixes = 8;

  struct Range {
    uint32_t first = 0;
    uint32_t last = 0;
    bool operator==(const Range&) const = default;
  };
  // At most `maxRanges` (≥ 1) ranges, in order, covering every one of `values` (none for
  // none): runs of consecutive values, then the smallest gaps between them closed.
  static std::vector<Range> cover(std::vector<uint32_t> values, size_t maxRanges);
};

}  // namespace l2a::net

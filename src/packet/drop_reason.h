// DropReason: why a received frame was not answered. Every drop path names one, and the
// responder counts them per interface. Plain enum; safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace l2a::packet {

enum class DropReason : size_t {
  kTruncated,               // shorter than its headers claim
  kUnsupportedEtherType,    // neither ARP nor IPv6
  kArpBadFormat,            // htype/ptype/hlen/plen not Ethernet+IPv4
  kArpNotRequest,           // operation other than request (1)
  kArpGratuitous,           // someone else announcing (sender IP == target IP)
  kArpBadSender,            // multicast/broadcast sender hardware address
  kIpv6BadVersion,          // version field is not 6
  kIpv6LengthMismatch,      // payload length larger than the frame
  kNotIcmpv6,               // next header is not ICMPv6 (58)
  kUnexpectedIcmpv6Type,  // ICMPv6 type other than the one expected (NS or NA)
  kBadHopLimit,             // RFC 4861: must be 255
  kBadIcmpCode,             // RFC 4861: must be 0
  kBadIcmpLength,           // RFC 4861: ICMP length below 24
  kBadChecksum,             // ICMPv6 checksum does not verify
  kMulticastTarget,         // RFC 4861: target must not be multicast
  kMulticastSource,         // RFC 4291 §2.7: a multicast address is never a source
  kBadOptionLength,         // RFC 4861: an option with length 0 or past the end
  kUnspecifiedSourceBadDestination,  // DAD NS not sent to a solicited-node group
  kUnspecifiedSourceWithLinkLayer,   // DAD NS carrying a source link-layer option
  kWrongDestination,        // NS destination neither solicited-node(target) nor target
  kVlanTagged,              // 802.1Q-tagged frame on an untagged port
  kOwnFrame,                // sent by one of our own MACs
  kNotClaimed,              // target address is not claimed on this interface
  kForeignAnnouncement,     // another MAC announces an address we claim (a conflict)
  kRateLimited,             // an answer over the per-interface reply limit (a flood)
  kStale,                   // queued while the process was stalled (SIGSTOP, VM pause)
  kCount,
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

// Stable snake_case name, used in counters and metrics.
std::string_view dropReasonName(DropReason reason);

}  // namespace l2a::packet

#include "packet/drop_reason.h"

namespace l2a::packet {

std::string_view dropReasonName(DropReason reason) {
  static constexpr std::array<std::string_view, kDropReasonCount> kNames = {
      "truncated",
      "unsupported_ethertype",
      "arp_bad_format",
      "arp_not_request",
      "arp_gratuitous",
      "arp_bad_sender",
      "ipv6_bad_version",
      "ipv6_length_mismatch",
      "not_icmpv6",
      "unexpected_icmpv6_type",
      "bad_hop_limit",
      "bad_icmp_code",
      "bad_icmp_length",
      "bad_checksum",
      "multicast_target",
      "multicast_source",
      "bad_option_length",
      "unspecified_source_bad_destination",
      "unspecified_source_with_link_layer",
      "wrong_destination",
      "vlan_tagged",
      "own_frame",
      "not_claimed",
      "foreign_announcement",
      "rate_limited",
      "stale",
  };
  size_t i = static_cast<size_t>(reason);
  return i < kNames.size() ? kNames[i] : "unknown";
}

}  // namespace l2a::packet

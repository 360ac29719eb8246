// IPv6 Neighbor Discovery: Neighbor Solicitation / Advertisement (RFC 4861 §4.3, §4.4), their
// validation (§7.1.1, §7.1.2) and builders. Pure, no I/O; stateless, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "packet/bytes.h"
#include "packet/drop_reason.h"
#include "packet/ethernet.h"
#include "packet/ip_address.h"
#include "packet/ipv6.h"

namespace l2a::packet {

inline constexpr uint8_t kIcmpv6NeighborSolicitation = 135;
inline constexpr uint8_t kIcmpv6NeighborAdvertisement = 136;
inline constexpr uint8_t kNdpHopLimit = 255;

struct NeighborSolicitation {
  Ipv6Address source;
  Ipv6Address destination;
  Ipv6Address target;
  std::optional<MacAddress> sourceLinkLayer;
};

struct NeighborAdvertisement {
  Ipv6Address source;
  Ipv6Address destination;
  Ipv6Address target;
  bool router = false;
  bool solicited = false;
  bool override = false;
  std::optional<MacAddress> targetLinkLayer;
};

// Parses and validates an IPv6 packet (the Ethernet payload) carrying an NS. Every rule of RFC
// 4861 §7.1.1 is checked, and the destination must be the target or its solicited-node group.
Result<NeighborSolicitation, DropReason> parseNeighborSolicitation(ByteSpan ipv6Packet);

// Same for an NA, validated per §7.1.2.
Result<NeighborAdvertisement, DropReason> parseNeighborAdvertisement(ByteSpan ipv6Packet);

// Answer to `ns` for its target, from `ourMac`: S and O set, R clear, with a target link-layer
// option, sent to the solicitor (its link-layer option, else the frame's source MAC). When the
// NS came from the unspecified address (duplicate address detection), it goes to ff02::1 with
// S clear (§7.2.4). Keeps the request's VLAN tag, if any. Without `override` (O clear, as a
// proxy answers, §7.2.8): a solicitor that already maps the target to another MAC keeps it
// (§7.2.5), one that maps it to nothing takes ours.
Bytes buildSolicitedAdvertisement(const MacAddress& ourMac, const EthernetHeader& requestEthernet,
                                  const NeighborSolicitation& ns, bool override = true);

// Unsolicited NA for `address` to ff02::1: O set, S and R clear, target link-layer option.
Bytes buildUnsolicitedAdvertisement(const MacAddress& ourMac, const Ipv6Address& address);

// NS for `target` to its solicited-node group. With an unspecified `source` (a DAD-style probe)
// no source link-layer option is included, as §7.1.1 requires.
Bytes buildNeighborSolicitation(const MacAddress& ourMac, const Ipv6Address& source,
                                const Ipv6Address& target);

}  // namespace l2a::packet

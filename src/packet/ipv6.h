// The fixed IPv6 header and the ICMPv6 checksum (RFC 8200, RFC 4443 §2.3): pure, no I/O.
// Stateless functions; safe from any thread.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "packet/bytes.h"
#include "packet/drop_reason.h"
#include "packet/ip_address.h"

namespace l2a::packet {

inline constexpr uint8_t kNextHeaderIcmpv6 = 58;
inline constexpr size_t kIpv6HeaderLength = 40;

struct Ipv6Header {
  uint8_t trafficClass = 0;
  uint32_t flowLabel = 0;
  uint16_t payloadLength = 0;
  uint8_t nextHeader = 0;
  uint8_t hopLimit = 0;
  Ipv6Address source;
  Ipv6Address destination;
};

struct Ipv6Packet {
  Ipv6Header header;
  ByteSpan payload;  // exactly payloadLength bytes (link-layer padding cut off)
};

Result<Ipv6Packet, DropReason> parseIpv6(ByteSpan packet);
void writeIpv6Header(ByteWriter& out, const Ipv6Header& header);

// The ICMPv6 checksum of `message` (its checksum field read as zero) with the pseudo-header.
uint16_t icmpv6Checksum(const Ipv6Address& source, const Ipv6Address& destination,
                        ByteSpan message);

}  // namespace l2a::packet

// Ethernet II framing with an optional 802.1Q tag: pure parse and build, no I/O.
// Parsed frames are views into the caller's buffer; valid only while that buffer lives.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "packet/bytes.h"
#include "packet/drop_reason.h"
#include "packet/mac_address.h"

namespace l2a::packet {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;

struct EthernetHeader {
  MacAddress destination;
  MacAddress source;
  std::optional<uint16_t> vlanTci;  // present when the frame carries an 802.1Q tag
  uint16_t etherType = 0;           // the inner type when tagged
};

struct EthernetFrame {
  EthernetHeader header;
  ByteSpan payload;
};

Result<EthernetFrame, DropReason> parseEthernet(ByteSpan frame);
void writeEthernetHeader(ByteWriter& out, const EthernetHeader& header);

}  // namespace l2a::packet

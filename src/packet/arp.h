// ARP over Ethernet/IPv4 (RFC 826, probes per RFC 5227): pure parse and build, no I/O.
// Builders return whole Ethernet frames ready to send; stateless, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "packet/bytes.h"
#include "packet/drop_reason.h"
#include "packet/ethernet.h"
#include "packet/ip_address.h"

namespace l2a::packet {

inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;

struct ArpPacket {
  uint16_t operation = 0;
  MacAddress senderMac;
  Ipv4Address senderIp;
  MacAddress targetMac;
  Ipv4Address targetIp;
};

// Parses an ARP payload (after the Ethernet header). Accepts any operation; rejects anything
// that is not Ethernet hardware with IPv4 protocol addresses.
Result<ArpPacket, DropReason> parseArp(ByteSpan payload);

// A whole ARP frame: Ethernet header then the 28-byte ARP body.
Bytes buildArpFrame(const EthernetHeader& ethernet, const ArpPacket& arp);

// The answer to `request` for `claimed`, from `ourMac`, unicast to the requester (and with the
// request's VLAN tag, if any).
Bytes buildArpReply(const MacAddress& ourMac, const EthernetHeader& requestEthernet,
                    const ArpPacket& request);

enum class GratuitousArpForm { kRequest, kReply };

// Broadcast announcement with sender IP = target IP = `address` (RFC 5227 §3 "ARP Announcement"
// is the request form; some old stacks only learn from the reply form).
Bytes buildGratuitousArp(const MacAddress& ourMac, const Ipv4Address& address,
                         GratuitousArpForm form);

// Broadcast who-has request. A zero `senderIp` makes it an RFC 5227 probe.
Bytes buildArpRequest(const MacAddress& ourMac, const Ipv4Address& senderIp,
                      const Ipv4Address& targetIp);

}  // namespace l2a::packet

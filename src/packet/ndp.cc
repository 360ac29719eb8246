#include "packet/ndp.h"

namespace l2a::packet {
namespace {

constexpr uint8_t kOptionSourceLinkLayer = 1;
constexpr uint8_t kOptionTargetLinkLayer = 2;
constexpr size_t kNdpMinimumLength = 24;  // type, code, checksum, 4 bytes, target
constexpr uint8_t kFlagRouter = 0x80;
constexpr uint8_t kFlagSolicited = 0x40;
constexpr uint8_t kFlagOverride = 0x20;

struct NdpMessage {
  Ipv6Header ip;
  uint8_t flags = 0;
  Ipv6Address target;
  std::optional<MacAddress> sourceLinkLayer;
  std::optional<MacAddress> targetLinkLayer;
};

// The checks §7.1.1 and §7.1.2 share: hop limit, checksum, code, length, target, options.
Result<NdpMessage, DropReason> parseNdp(ByteSpan ipv6Packet, uint8_t expectedType) {
  auto ip = parseIpv6(ipv6Packet);
  if (!ip) return fail(ip.error());
  if (ip->header.nextHeader != kNextHeaderIcmpv6) return fail(DropReason::kNotIcmpv6);
  ByteSpan icmp = ip->payload;
  ByteReader in(icmp);
  uint8_t type = in.u8();
  uint8_t code = in.u8();
  uint16_t checksum = in.u16();
  if (in.failed()) return fail(DropReason::kTruncated);
  if (type != expectedType) return fail(DropReason::kUnexpectedIcmpv6Type);
  if (ip->header.hopLimit != kNdpHopLimit) return fail(DropReason::kBadHopLimit);
  if (icmp.size() < kNdpMinimumLength) return fail(DropReason::kBadIcmpLength);
  uint16_t expected = icmpv6Checksum(ip->header.source, ip->header.destination, icmp);
  if (checksum != expected && !(checksum == 0xffff && expected == 0)) {
    return fail(DropReason::kBadChecksum);
  }
  if (code != 0) return fail(DropReason::kBadIcmpCode);

  if (ip->header.source.isMulticast()) return fail(DropReason::kMulticastSource);
  NdpMessage msg;
  msg.ip = ip->header;
  msg.flags = in.u8();
  in.take(3);
  in.copyInto(msg.target.octets);
  if (msg.target.isMulticast()) return fail(DropReason::kMulticastTarget);
  while (in.remaining() > 0) {
    uint8_t optionType = in.u8();
    uint8_t optionUnits = in.u8();
    if (in.failed() || optionUnits == 0) return fail(DropReason::kBadOptionLength);
    size_t optionLength = size_t{optionUnits} * 8;
    ByteSpan body = in.take(optionLength - 2);
    if (in.failed()) return fail(DropReason::kBadOptionLength);
    if ((optionType == kOptionSourceLinkLayer || optionType == kOptionTargetLinkLayer) &&
        optionUnits == 1) {
      MacAddress mac;
      for (size_t i = 0; i < 6; ++i) mac.octets[i] = static_cast<uint8_t>(body[i]);
      (optionType == kOptionSourceLinkLayer ? msg.sourceLinkLayer : msg.targetLinkLayer) = mac;
    }
  }
  return msg;
}

void writeLinkLayerOption(ByteWriter& out, uint8_t type, const MacAddress& mac) {
  out.u8(type);
  out.u8(1);
  out.bytes(mac.octets);
}

struct NdpFrame {
  EthernetHeader ethernet;
  Ipv6Address source;
  Ipv6Address destination;
  uint8_t type = 0;
  uint8_t flags = 0;
  Ipv6Address target;
  std::optional<std::pair<uint8_t, MacAddress>> linkLayerOption;
};

Bytes buildNdpFrame(const NdpFrame& f) {
  Bytes frame;
  frame.reserve(90);
  ByteWriter out(frame);
  EthernetHeader ethernet = f.ethernet;
  ethernet.etherType = kEtherTypeIpv6;
  writeEthernetHeader(out, ethernet);
  uint16_t icmpLength = static_cast<uint16_t>(kNdpMinimumLength + (f.linkLayerOption ? 8 : 0));
  writeIpv6Header(out, {.payloadLength = icmpLength,
                        .nextHeader = kNextHeaderIcmpv6,
                        .hopLimit = kNdpHopLimit,
                        .source = f.source,
                        .destination = f.destination});
  size_t icmpStart = out.size();
  out.u8(f.type);
  out.u8(0);
  out.u16(0);  // checksum, patched below
  out.u8(f.flags);
  out.zeros(3);
  out.bytes(f.target.octets);
  if (f.linkLayerOption) writeLinkLayerOption(out, f.linkLayerOption->first, f.linkLayerOption->second);
  ByteSpan icmp(frame.data() + icmpStart, icmpLength);
  out.patchU16(icmpStart + 2, icmpv6Checksum(f.source, f.destination, icmp));
  return frame;
}

}  // namespace

Result<NeighborSolicitation, DropReason> parseNeighborSolicitation(ByteSpan ipv6Packet) {
  auto msg = parseNdp(ipv6Packet, kIcmpv6NeighborSolicitation);
  if (!msg) return fail(msg.error());
  const Ipv6Header& ip = msg->ip;
  if (ip.source.isUnspecified()) {
    if (ip.destination != msg->target.solicitedNode()) {
      return fail(DropReason::kUnspecifiedSourceBadDestination);
    }
    if (msg->sourceLinkLayer) return fail(DropReason::kUnspecifiedSourceWithLinkLayer);
  } else if (ip.destination != msg->target.solicitedNode() && ip.destination != msg->target) {
    return fail(DropReason::kWrongDestination);
  }
  return NeighborSolicitation{.source = ip.source,
                              .destination = ip.destination,
                              .target = msg->target,
                              .sourceLinkLayer = msg->sourceLinkLayer};
}

Result<NeighborAdvertisement, DropReason> parseNeighborAdvertisement(ByteSpan ipv6Packet) {
  auto msg = parseNdp(ipv6Packet, kIcmpv6NeighborAdvertisement);
  if (!msg) return fail(msg.error());
  NeighborAdvertisement na{.source = msg->ip.source,
                           .destination = msg->ip.destination,
                           .target = msg->target,
                           .router = (msg->flags & kFlagRouter) != 0,
                           .solicited = (msg->flags & kFlagSolicited) != 0,
                           .override = (msg->flags & kFlagOverride) != 0,
                           .targetLinkLayer = msg->targetLinkLayer};
  // §7.1.2: a multicast destination requires the Solicited flag clear.
  if (na.destination.isMulticast() && na.solicited) return fail(DropReason::kWrongDestination);
  return na;
}

Bytes buildSolicitedAdvertisement(const MacAddress& ourMac, const EthernetHeader& requestEthernet,
                                  const NeighborSolicitation& ns, bool override) {
  bool dad = ns.source.isUnspecified();
  Ipv6Address destination = dad ? Ipv6Address::allNodes() : ns.source;
  MacAddress destinationMac = dad ? destination.multicastMac()
                                  : ns.sourceLinkLayer.value_or(requestEthernet.source);
  return buildNdpFrame({.ethernet = {.destination = destinationMac,
                                     .source = ourMac,
                                     .vlanTci = requestEthernet.vlanTci},
                        .source = ns.target,
                        .destination = destination,
                        .type = kIcmpv6NeighborAdvertisement,
                        .flags = static_cast<uint8_t>((override ? kFlagOverride : 0) | (dad ? 0 : kFlagSolicited)),
                        .target = ns.target,
                        .linkLayerOption = std::make_pair(kOptionTargetLinkLayer, ourMac)});
}

Bytes buildUnsolicitedAdvertisement(const MacAddress& ourMac, const Ipv6Address& address) {
  Ipv6Address allNodes = Ipv6Address::allNodes();
  return buildNdpFrame({.ethernet = {.destination = allNodes.multicastMac(), .source = ourMac},
                        .source = address,
                        .destination = allNodes,
                        .type = kIcmpv6NeighborAdvertisement,
                        .flags = kFlagOverride,
                        .target = address,
                        .linkLayerOption = std::make_pair(kOptionTargetLinkLayer, ourMac)});
}

Bytes buildNeighborSolicitation(const MacAddress& ourMac, const Ipv6Address& source,
                                const Ipv6Address& target) {
  Ipv6Address group = target.solicitedNode();
  NdpFrame f{.ethernet = {.destination = group.multicastMac(), .source = ourMac},
             .source = source,
             .destination = group,
             .type = kIcmpv6NeighborSolicitation,
             .target = target};
  if (!source.isUnspecified()) f.linkLayerOption = std::make_pair(kOptionSourceLinkLayer, ourMac);
  return buildNdpFrame(f);
}

}  // namespace l2a::packet

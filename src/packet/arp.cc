#include "packet/arp.h"

namespace l2a::packet {
namespace {

constexpr uint16_t kHardwareEthernet = 1;
constexpr uint8_t kEthernetAddressLength = 6;
constexpr uint8_t kIpv4AddressLength = 4;

}  // namespace

Result<ArpPacket, DropReason> parseArp(ByteSpan payload) {
  ByteReader in(payload);
  uint16_t hardwareType = in.u16();
  uint16_t protocolType = in.u16();
  uint8_t hardwareLength = in.u8();
  uint8_t protocolLength = in.u8();
  ArpPacket arp;
  arp.operation = in.u16();
  in.copyInto(arp.senderMac.octets);
  in.copyInto(arp.senderIp.octets);
  in.copyInto(arp.targetMac.octets);
  in.copyInto(arp.targetIp.octets);
  if (in.failed()) return fail(DropReason::kTruncated);
  if (hardwareType != kHardwareEthernet || protocolType != kEtherTypeIpv4 ||
      hardwareLength != kEthernetAddressLength || protocolLength != kIpv4AddressLength) {
    return fail(DropReason::kArpBadFormat);
  }
  return arp;
}

Bytes buildArpFrame(const EthernetHeader& ethernet, const ArpPacket& arp) {
  Bytes frame;
  frame.reserve(46);
  ByteWriter out(frame);
  EthernetHeader header = ethernet;
  header.etherType = kEtherTypeArp;
  writeEthernetHeader(out, header);
  out.u16(kHardwareEthernet);
  out.u16(kEtherTypeIpv4);
  out.u8(kEthernetAddressLength);
  out.u8(kIpv4AddressLength);
  out.u16(arp.operation);
  out.bytes(arp.senderMac.octets);
  out.bytes(arp.senderIp.octets);
  out.bytes(arp.targetMac.octets);
  out.bytes(arp.targetIp.octets);
  return frame;
}

Bytes buildArpReply(const MacAddress& ourMac, const EthernetHeader& requestEthernet,
                    const ArpPacket& request) {
  EthernetHeader ethernet{.destination = request.senderMac,
                          .source = ourMac,
                          .vlanTci = requestEthernet.vlanTci};
  ArpPacket reply{.operation = kArpReply,
                  .senderMac = ourMac,
                  .senderIp = request.targetIp,
                  .targetMac = request.senderMac,
                  .targetIp = request.senderIp};
  return buildArpFrame(ethernet, reply);
}

Bytes buildGratuitousArp(const MacAddress& ourMac, const Ipv4Address& address,
                         GratuitousArpForm form) {
  EthernetHeader ethernet{.destination = MacAddress::broadcast(), .source = ourMac};
  ArpPacket arp{.operation = form == GratuitousArpForm::kRequest ? kArpRequest : kArpReply,
                .senderMac = ourMac,
                .senderIp = address,
                // The reply form names the sender again as target: Linux only learns
                // gratuitous replies whose target hardware address equals the sender's.
                .targetMac = form == GratuitousArpForm::kRequest ? MacAddress{} : ourMac,
                .targetIp = address};
  return buildArpFrame(ethernet, arp);
}

Bytes buildArpRequest(const MacAddress& ourMac, const Ipv4Address& senderIp,
                      const Ipv4Address& targetIp) {
  EthernetHeader ethernet{.destination = MacAddress::broadcast(), .source = ourMac};
  ArpPacket arp{.operation = kArpRequest,
                .senderMac = ourMac,
                .senderIp = senderIp,
                .targetMac = MacAddress{},
                .targetIp = targetIp};
  return buildArpFrame(ethernet, arp);
}

}  // namespace l2a::packet

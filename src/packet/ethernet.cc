#include "packet/ethernet.h"

namespace l2a::packet {

Result<EthernetFrame, DropReason> parseEthernet(ByteSpan frame) {
  ByteReader in(frame);
  EthernetFrame out;
  in.copyInto(out.header.destination.octets);
  in.copyInto(out.header.source.octets);
  uint16_t type = in.u16();
  if (type == kEtherTypeVlan) {
    out.header.vlanTci = in.u16();
    type = in.u16();
  }
  if (in.failed()) return fail(DropReason::kTruncated);
  out.header.etherType = type;
  out.payload = in.rest();
  return out;
}

void writeEthernetHeader(ByteWriter& out, const EthernetHeader& header) {
  out.bytes(header.destination.octets);
  out.bytes(header.source.octets);
  if (header.vlanTci) {
    out.u16(kEtherTypeVlan);
    out.u16(*header.vlanTci);
  }
  out.u16(header.etherType);
}

}  // namespace l2a::packet

#include "packet/ipv6.h"

namespace l2a::packet {

Result<Ipv6Packet, DropReason> parseIpv6(ByteSpan packet) {
  ByteReader in(packet);
  uint32_t first = in.u32();
  Ipv6Packet out;
  out.header.trafficClass = static_cast<uint8_t>((first >> 20) & 0xff);
  out.header.flowLabel = first & 0xfffff;
  out.header.payloadLength = in.u16();
  out.header.nextHeader = in.u8();
  out.header.hopLimit = in.u8();
  in.copyInto(out.header.source.octets);
  in.copyInto(out.header.destination.octets);
  if (in.failed()) return fail(DropReason::kTruncated);
  if ((first >> 28) != 6) return fail(DropReason::kIpv6BadVersion);
  if (out.header.payloadLength > in.remaining()) return fail(DropReason::kIpv6LengthMismatch);
  out.payload = in.take(out.header.payloadLength);
  return out;
}

void writeIpv6Header(ByteWriter& out, const Ipv6Header& header) {
  out.u32((6u << 28) | (static_cast<uint32_t>(header.trafficClass) << 20) |
          (header.flowLabel & 0xfffff));
  out.u16(header.payloadLength);
  out.u8(header.nextHeader);
  out.u8(header.hopLimit);
  out.bytes(header.source.octets);
  out.bytes(header.destination.octets);
}

uint16_t icmpv6Checksum(const Ipv6Address& source, const Ipv6Address& destination,
                        ByteSpan message) {
  uint64_t sum = 0;
  auto addWords = [&sum](const uint8_t* data, size_t length) {
    for (size_t i = 0; i + 1 < length; i += 2) sum += (static_cast<uint32_t>(data[i]) << 8) | data[i + 1];
  };
  addWords(source.octets.data(), 16);
  addWords(destination.octets.data(), 16);
  sum += static_cast<uint32_t>(message.size()) >> 16;
  sum += static_cast<uint32_t>(message.size()) & 0xffff;
  sum += kNextHeaderIcmpv6;
  for (size_t i = 0; i < message.size(); i += 2) {
    // Bytes 2 and 3 are the checksum field itself: read as zero.
    uint32_t high = (i == 2) ? 0 : static_cast<uint32_t>(message[i]);
    uint32_t low = (i + 1 >= message.size() || i == 2) ? 0 : static_cast<uint32_t>(message[i + 1]);
    sum += (high << 8) | low;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

}  // namespace l2a::packet

// NeighborProbe: the "who has this IP?" question as pure logic — the request frame to send and
// the recognition of answers (ARP replies, Neighbor Advertisements) among received frames.
// The I/O lives with the caller (`l2a whohas`, `l2a explain --probe`). One thread.
#pragma once

#include <optional>
#include <vector>

#include "packet/bytes.h"
#include "packet/ip_address.h"
#include "packet/mac_address.h"

namespace l2a::net {

class NeighborProbe {
 public:
  // `source` is the address to ask from: an IPv4 address (0.0.0.0 makes an RFC 5227 probe)
  // for an IPv4 target, an IPv6 address (:: makes a DAD-style NS) for an IPv6 target.
  NeighborProbe(const packet::MacAddress& ourMac, const packet::IpAddress& source,
                const packet::IpAddress& target);

  packet::Bytes request() const;
  // The answering MAC when `frame` is a valid answer for the target (ARP reply / NA).
  std::optional<packet::MacAddress> answerFrom(packet::ByteSpan frame) const;
  // True when `frame` answers for the target from a MAC not seen before.
  bool observe(packet::ByteSpan frame);
  const std::vector<packet::MacAddress>& owners() const { return owners_; }

 private:
  packet::MacAddress ourMac_;
  packet::IpAddress source_;
  packet::IpAddress target_;
  std::vector<packet::MacAddress> owners_;
};

}  // namespace l2a::net

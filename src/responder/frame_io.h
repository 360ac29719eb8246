// FrameIo: how the responder reaches the wire. Implemented over AF_PACKET sockets by the cli
// wiring and by an in-memory fake in tests. Called only from the responder's loop thread.
#pragma once

#include <span>

#include "packet/bytes.h"
#include "packet/ip_address.h"
#include "packet/mac_address.h"

namespace l2a::responder {

class FrameIo {
 public:
  virtual ~FrameIo() = default;
  // Sends one whole Ethernet frame out of interface `ifindex`; false when the kernel refused it.
  virtual bool send(int ifindex, packet::ByteSpan frame) = 0;
  // Joins/leaves a link-layer multicast group so the NIC passes its frames up.
  virtual void joinMulticast(int ifindex, const packet::MacAddress& group) = 0;
  virtual void leaveMulticast(int ifindex, const packet::MacAddress& group) = 0;
  // The addresses claimed on `ifindex` now: the port may leave out ARP and NDP frames that
  // concern none of them (a kernel filter), so a LAN's broadcasts do not wake the responder.
  virtual void filterClaims(int ifindex, std::span<const packet::IpAddress> claimed) = 0;
};

}  // namespace l2a::responder

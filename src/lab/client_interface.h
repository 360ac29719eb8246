// ClientInterface: what the lab's client tools (the prober, the hostile sender) need to know of
// the interface they send on — its index, MAC, first IPv4 and first global IPv6 address — read
// from the kernel once at start. A plain value.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "packet/ip_address.h"
#include "packet/mac_address.h"

namespace l2a::lab {

struct ClientInterface {
  int ifindex = 0;
  packet::MacAddress mac;
  std::optional<packet::Ipv4Address> ipv4;
  std::optional<packet::Ipv6Address> ipv6;  // not link-local
};

// Error code "usage" for an unknown interface, "system" when the kernel cannot be asked.
Result<ClientInterface> findClientInterface(const std::string& name);

}  // namespace l2a::lab

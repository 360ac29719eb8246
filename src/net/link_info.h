// LinkInfo / InterfaceAddress: what the kernel says about one network interface. Plain values.
#pragma once

#include <string>

#include "packet/ip_address.h"
#include "packet/mac_address.h"

namespace l2a::net {

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  packet::MacAddress mac;
  bool ethernet = false;   // ARPHRD_ETHER: the only kind the responder can answer on
  bool up = false;         // administratively up (IFF_UP)
  bool carrier = false;    // lower layer up (IFF_LOWER_UP)
  std::string kind;        // "vlan", "bond", "veth", ... ("" for plain devices)
  bool operator==(const LinkInfo&) const = default;
};

struct InterfaceAddress {
  int ifindex = 0;
  packet::IpAddress address;
  int prefixLength = 0;
};

}  // namespace l2a::net

// Port: one interface the responder answers on, as the wiring selected it from the links.
// Plain value type.
#pragma once

#include <string>

#include "packet/mac_address.h"

namespace l2a::responder {

struct Port {
  int ifindex = 0;
  std::string name;
  packet::MacAddress mac;
  bool operator==(const Port&) const = default;
};

}  // namespace l2a::responder

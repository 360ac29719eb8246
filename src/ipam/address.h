// Address: an IPv4 or IPv6 address as a 128-bit integer, so ranges of any size (an IPv6 /64, an
// IPv4 /8) are two numbers. Plain value; ordered (IPv4 before IPv6).
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "packet/ip_address.h"

namespace l2a::ipam {

using U128 = unsigned __int128;

struct Address {
  bool v6 = false;
  U128 value = 0;

  static std::optional<Address> parse(std::string_view text);
  static Address from(const packet::IpAddress& ip);
  packet::IpAddress toIp() const;
  std::string toString() const;
  auto operator<=>(const Address&) const = default;
};

std::string u128ToString(U128 v);

}  // namespace l2a::ipam

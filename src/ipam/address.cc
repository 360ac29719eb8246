#include "ipam/address.h"

#include <algorithm>

namespace l2a::ipam {

std::optional<Address> Address::parse(std::string_view text) {
  auto ip = packet::parseIpAddress(text);
  if (!ip) return std::nullopt;
  return from(*ip);
}

Address Address::from(const packet::IpAddress& ip) {
  Address a;
  if (const auto* v4 = std::get_if<packet::Ipv4Address>(&ip)) {
    for (uint8_t b : v4->octets) a.value = (a.value << 8) | b;
  } else {
    a.v6 = true;
    for (uint8_t b : std::get<packet::Ipv6Address>(ip).octets) a.value = (a.value << 8) | b;
  }
  return a;
}

packet::IpAddress Address::toIp() const {
  if (!v6) {
    packet::Ipv4Address out;
    for (int i = 3; i >= 0; --i) out.octets[static_cast<size_t>(3 - i)] = static_cast<uint8_t>(value >> (8 * i));
    return out;
  }
  packet::Ipv6Address out;
  for (int i = 15; i >= 0; --i) out.octets[static_cast<size_t>(15 - i)] = static_cast<uint8_t>(value >> (8 * i));
  return out;
}

std::string Address::toString() const { return packet::toString(toIp()); }

std::string u128ToString(U128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace l2a::ipam

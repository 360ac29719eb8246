#include "packet/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace l2a::packet {

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::string s(text);
  in_addr raw{};
  if (inet_pton(AF_INET, s.c_str(), &raw) != 1) return std::nullopt;
  Ipv4Address a;
  std::memcpy(a.octets.data(), &raw, 4);
  return a;
}

std::string Ipv4Address::toString() const {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, octets.data(), buf, sizeof buf);
  return buf;
}

std::optional<Ipv6Address> Ipv6Address::parse(std::string_view text) {
  std::string s(text);
  in6_addr raw{};
  if (inet_pton(AF_INET6, s.c_str(), &raw) != 1) return std::nullopt;
  Ipv6Address a;
  std::memcpy(a.octets.data(), &raw, 16);
  return a;
}

Ipv6Address Ipv6Address::allNodes() {
  Ipv6Address a;
  a.octets[0] = 0xff;
  a.octets[1] = 0x02;
  a.octets[15] = 0x01;
  return a;
}

Ipv6Address Ipv6Address::solicitedNode() const {
  Ipv6Address a;
  a.octets[0] = 0xff;
  a.octets[1] = 0x02;
  a.octets[11] = 0x01;
  a.octets[12] = 0xff;
  a.octets[13] = octets[13];
  a.octets[14] = octets[14];
  a.octets[15] = octets[15];
  return a;
}

MacAddress Ipv6Address::multicastMac() const {
  return {{0x33, 0x33, octets[12], octets[13], octets[14], octets[15]}};
}

std::string Ipv6Address::toString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, octets.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> parseIpAddress(std::string_view text) {
  if (auto v4 = Ipv4Address::parse(text)) return IpAddress{*v4};
  if (auto v6 = Ipv6Address::parse(text)) return IpAddress{*v6};
  return std::nullopt;
}

std::string toString(const IpAddress& address) {
  return std::visit([](const auto& a) { return a.toString(); }, address);
}

}  // namespace l2a::packet

// Ipv4Address, Ipv6Address and IpAddress (either): address values with text forms.
// Plain value types; safe to copy across threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "packet/mac_address.h"

namespace l2a::packet {

struct Ipv4Address {
  std::array<uint8_t, 4> octets{};

  static std::optional<Ipv4Address> parse(std::string_view text);
  bool isUnspecified() const { return octets == std::array<uint8_t, 4>{}; }
  bool isMulticast() const { return (octets[0] & 0xf0) == 0xe0; }
  std::string toString() const;
  auto operator<=>(const Ipv4Address&) const = default;
};

struct Ipv6Address {
  std::array<uint8_t, 16> octets{};

  static std::optional<Ipv6Address> parse(std::string_view text);
  static Ipv6Address allNodes();  // ff02::1
  bool isUnspecified() const { return octets == std::array<uint8_t, 16>{}; }
  bool isMulticast() const { return octets[0] == 0xff; }
  bool isLinkLocal() const { return octets[0] == 0xfe && (octets[1] & 0xc0) == 0x80; }
  // ff02::1:ffXX:XXXX, the group a node joins for this address (RFC 4291 §2.7.1).
  Ipv6Address solicitedNode() const;
  // 33:33 + the low 32 bits (RFC 2464 §7); only meaningful for multicast addresses.
  MacAddress multicastMac() const;
  std::string toString() const;
  auto operator<=>(const Ipv6Address&) const = default;
};

using IpAddress = std::variant<Ipv4Address, Ipv6Address>;

std::optional<IpAddress> parseIpAddress(std::string_view text);
std::string toString(const IpAddress& address);

}  // namespace l2a::packet

template <>
struct std::hash<l2a::packet::Ipv4Address> {
  size_t operator()(const l2a::packet::Ipv4Address& a) const noexcept {
    uint32_t v = 0;
    for (uint8_t b : a.octets) v = (v << 8) | b;
    return std::hash<uint32_t>{}(v);
  }
};

template <>
struct std::hash<l2a::packet::Ipv6Address> {
  size_t operator()(const l2a::packet::Ipv6Address& a) const noexcept {
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) hi = (hi << 8) | a.octets[i];
    for (int i = 8; i < 16; ++i) lo = (lo << 8) | a.octets[i];
    return std::hash<uint64_t>{}(hi ^ (lo * 0x9e3779b97f4a7c15ULL));
  }
};

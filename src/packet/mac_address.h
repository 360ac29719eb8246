// MacAddress: a 48-bit Ethernet address value, with text form aa:bb:cc:dd:ee:ff.
// Plain value type; safe to copy across threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace l2a::packet {

struct MacAddress {
  std::array<uint8_t, 6> octets{};

  static constexpr MacAddress broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  static std::optional<MacAddress> parse(std::string_view text);

  bool isZero() const { return octets == std::array<uint8_t, 6>{}; }
  bool isMulticast() const { return (octets[0] & 0x01) != 0; }
  std::string toString() const;
  auto operator<=>(const MacAddress&) const = default;
};

}  // namespace l2a::packet

template <>
struct std::hash<l2a::packet::MacAddress> {
  size_t operator()(const l2a::packet::MacAddress& m) const noexcept {
    uint64_t v = 0;
    for (uint8_t b : m.octets) v = (v << 8) | b;
    return std::hash<uint64_t>{}(v);
  }
};

#include "packet/mac_address.h"

#include <fmt/format.h>

namespace l2a::packet {

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  MacAddress mac;
  size_t pos = 0;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != ':') return std::nullopt;
      ++pos;
    }
    unsigned value = 0;
    for (int digit = 0; digit < 2; ++digit, ++pos) {
      if (pos >= text.size()) return std::nullopt;
      char c = text[pos];
      unsigned d;
      if (c >= '0' && c <= '9') {
        d = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<unsigned>(c - 'A' + 10);
      } else {
        return std::nullopt;
      }
      value = value * 16 + d;
    }
    mac.octets[i] = static_cast<uint8_t>(value);
  }
  if (pos != text.size()) return std::nullopt;
  return mac;
}

std::string MacAddress::toString() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", octets[0], octets[1], octets[2],
                     octets[3], octets[4], octets[5]);
}

}  // namespace l2a::packet

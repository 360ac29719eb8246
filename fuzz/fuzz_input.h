// The fuzz input as a span of bytes, for the parsers' signature.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace l2a::fuzz {

inline std::span<const std::byte> asBytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

}  // namespace l2a::fuzz

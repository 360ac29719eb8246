// ByteReader / ByteWriter: explicit big-endian field access over byte spans (no packed structs).
// Both are cheap views owned by the caller; not thread-safe, use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace l2a::packet {

using Bytes = std::vector<std::byte>;
using ByteSpan = std::span<const std::byte>;

// Reads big-endian fields front to back. A read past the end sets failed() and returns zeros.
class ByteReader {
 public:
  explicit ByteReader(ByteSpan data) : data_(data) {}

  uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<uint8_t>(data_[pos_++]);
  }
  uint16_t u16() {
    if (!need(2)) return 0;
    uint16_t v = static_cast<uint16_t>((static_cast<unsigned>(data_[pos_]) << 8) |
                                       static_cast<unsigned>(data_[pos_ + 1]));
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    uint32_t high = u16();
    return (high << 16) | u16();
  }
  ByteSpan take(size_t n) {
    if (!need(n)) return {};
    ByteSpan out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  template <size_t N>
  void copyInto(std::array<uint8_t, N>& out) {
    ByteSpan s = take(N);
    for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<uint8_t>(s[i]);
  }
  ByteSpan rest() const { return data_.subspan(pos_); }
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool failed() const { return failed_; }

 private:
  bool need(size_t n) {
    if (failed_ || data_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }
  ByteSpan data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Appends big-endian fields to a byte vector it does not own.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  template <size_t N>
  void bytes(const std::array<uint8_t, N>& v) {
    for (uint8_t b : v) u8(b);
  }
  void bytes(ByteSpan v) { out_.insert(out_.end(), v.begin(), v.end()); }
  void zeros(size_t n) { out_.insert(out_.end(), n, std::byte{0}); }
  // Overwrites a 16-bit field written earlier (for checksums and lengths).
  void patchU16(size_t offset, uint16_t v) {
    out_[offset] = static_cast<std::byte>(v >> 8);
    out_[offset + 1] = static_cast<std::byte>(v);
  }
  size_t size() const { return out_.size(); }

 private:
  Bytes& out_;
};

}  // namespace l2a::packet

#include "wire/heartbeat.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "packet/ethernet.h"

namespace l2a::wire {
namespace {

constexpr std::array<uint8_t, 4> kMagic{'L', '2', 'A', 'H'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kFlagHmac = 0x01;
constexpr size_t kHmacBytes = 32;
constexpr uint8_t kFamilyIpv4 = 4;
constexpr uint8_t kFamilyIpv6 = 6;

using Mac = std::array<unsigned char, kHmacBytes>;

Mac hmac(std::string_view key, packet::ByteSpan data) {
  Mac out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &length);
  return out;
}

void u64(packet::ByteWriter& out, uint64_t v) {
  out.u32(static_cast<uint32_t>(v >> 32));
  out.u32(static_cast<uint32_t>(v));
}

uint64_t u64(packet::ByteReader& in) {
  uint64_t high = in.u32();
  return (high << 32) | in.u32();
}

}  // namespace

std::string_view heartbeatErrorName(HeartbeatError error) {
  switch (error) {
    case HeartbeatError::kTruncated: return "truncated";
    case HeartbeatError::kNotHeartbeat: return "not_heartbeat";
    case HeartbeatError::kBadVersion: return "bad_version";
    case HeartbeatError::kBadField: return "bad_field";
    case HeartbeatError::kUnsigned: return "unsigned";
    case HeartbeatError::kBadHmac: return "bad_hmac";
  }
  return "unknown";
}

packet::Bytes buildHeartbeat(const packet::MacAddress& source, const Heartbeat& heartbeat, std::string_view key) {
  packet::Bytes frame;
  packet::ByteWriter out(frame);
  packet::writeEthernetHeader(out, {kHeartbeatGroup, source, std::nullopt, kHeartbeatEtherType});
  size_t payloadStart = out.size();
  out.bytes(kMagic);
  out.u8(kVersion);
  out.u8(key.empty() ? 0 : kFlagHmac);
  out.u16(heartbeat.intervalMs);
  u64(out, heartbeat.incarnation);
  u64(out, heartbeat.sequence);
  std::string_view name = std::string_view(heartbeat.node).substr(0, 255);
  out.u8(static_cast<uint8_t>(name.size()));
  out.bytes(packet::ByteSpan(reinterpret_cast<const std::byte*>(name.data()), name.size()));
  std::string_view port = std::string_view(heartbeat.port).substr(0, 255);
  out.u8(static_cast<uint8_t>(port.size()));
  out.bytes(packet::ByteSpan(reinterpret_cast<const std::byte*>(port.data()), port.size()));
  out.u32(heartbeat.announcedCount);
  size_t listed = std::min(heartbeat.announced.size(), kMaxListedAddresses);
  out.u8(static_cast<uint8_t>(listed));
  for (size_t i = 0; i < listed; ++i) {
    if (const auto* v4 = std::get_if<packet::Ipv4Address>(&heartbeat.announced[i])) {
      out.u8(kFamilyIpv4);
      out.bytes(v4->octets);
    } else {
      out.u8(kFamilyIpv6);
      out.bytes(std::get<packet::Ipv6Address>(heartbeat.announced[i]).octets);
    }
  }
  // Names while they fit, dead ones first; a node accused by many is accused by the others'
  // frames too.
  size_t bytes = 0;
  for (const auto* names : {&heartbeat.accused, &heartbeat.heldDown}) {
    std::vector<std::string_view> fit;
    for (const std::string& a : *names) {
      if (a.empty() || a.size() > 255 || bytes + a.size() + 1 > kMaxAccusedBytes) continue;
      fit.push_back(a);
      bytes += a.size() + 1;
    }
    out.u8(static_cast<uint8_t>(fit.size()));
    for (std::string_view a : fit) {
      out.u8(static_cast<uint8_t>(a.size()));
      out.bytes(packet::ByteSpan(reinterpret_cast<const std::byte*>(a.data()), a.size()));
    }
  }
  if (!key.empty()) {
    Mac mac = hmac(key, packet::ByteSpan(frame).subspan(payloadStart));
    for (unsigned char b : mac) out.u8(b);
  }
  return frame;
}

Result<Heartbeat, HeartbeatError> parseHeartbeat(packet::ByteSpan frame, const std::vector<std::string>& keys) {
  auto eth = packet::parseEthernet(frame);
  if (!eth) return fail(HeartbeatError::kTruncated);
  if (eth->header.etherType != kHeartbeatEtherType || eth->header.vlanTci) return fail(HeartbeatError::kNotHeartbeat);
  packet::ByteSpan payload = eth->payload;
  packet::ByteReader in(payload);
  std::array<uint8_t, 4> magic{};
  in.copyInto(magic);
  if (in.failed()) return fail(HeartbeatError::kTruncated);
  if (magic != kMagic) return fail(HeartbeatError::kNotHeartbeat);
  if (in.u8() != kVersion) return fail(in.failed() ? HeartbeatError::kTruncated : HeartbeatError::kBadVersion);
  uint8_t flags = in.u8();
  Heartbeat out;
  out.intervalMs = in.u16();
  out.incarnation = u64(in);
  out.sequence = u64(in);
  packet::ByteSpan name = in.take(in.u8());
  out.node.assign(reinterpret_cast<const char*>(name.data()), name.size());
  packet::ByteSpan port = in.take(in.u8());
  out.port.assign(reinterpret_cast<const char*>(port.data()), port.size());
  out.announcedCount = in.u32();
  uint8_t listed = in.u8();
  // No sender lists more (buildHeartbeat); more is malformed, not read.
  if (listed > kMaxListedAddresses && !in.failed()) return fail(HeartbeatError::kBadField);
  for (uint8_t i = 0; i < listed && !in.failed(); ++i) {
    uint8_t family = in.u8();
    if (family == kFamilyIpv4) {
      packet::Ipv4Address a;
      in.copyInto(a.octets);
      out.announced.emplace_back(a);
    } else if (family == kFamilyIpv6) {
      packet::Ipv6Address a;
      in.copyInto(a.octets);
      out.announced.emplace_back(a);
    } else if (!in.failed()) {
      return fail(HeartbeatError::kBadField);
    }
  }
  for (auto* names : {&out.accused, &out.heldDown}) {
    uint8_t count = in.u8();
    for (uint8_t i = 0; i < count && !in.failed(); ++i) {
      packet::ByteSpan a = in.take(in.u8());
      if (a.empty() && !in.failed()) return fail(HeartbeatError::kBadField);
      names->emplace_back(reinterpret_cast<const char*>(a.data()), a.size());
    }
  }
  size_t signedBytes = in.position();
  out.authenticated = (flags & kFlagHmac) != 0;
  packet::ByteSpan mac = out.authenticated ? in.take(kHmacBytes) : packet::ByteSpan{};
  if (in.failed()) return fail(HeartbeatError::kTruncated);
  // A node name never holds a '/' (a DNS subdomain): "node/interface" names an interface.
  if (out.node.empty() || out.node.find('/') != std::string::npos || out.port.find('/') != std::string::npos ||
      out.intervalMs == 0 || out.announced.size() > out.announcedCount) {
    return fail(HeartbeatError::kBadField);
  }
  if (keys.empty()) return out;
  if (!out.authenticated) return fail(HeartbeatError::kUnsigned);
  for (const std::string& key : keys) {
    if (key.empty()) continue;
    Mac expected = hmac(key, payload.first(signedBytes));
    if (CRYPTO_memcmp(expected.data(), mac.data(), kHmacBytes) == 0) return out;
  }
  return fail(HeartbeatError::kBadHmac);
}

}  // namespace l2a::wire

// Heartbeat: the frame agents on one L2 segment send each other every interval to say they are
// alive — node name, incarnation, sequence, the sender's interval and what it announces. An
// Ethernet frame of the IEEE local experimental EtherType 0x88B5 to a locally administered
// multicast MAC, so it needs no IP address and the responder's AF_PACKET sockets carry it.
// With a key, an HMAC-SHA256 over the frame's payload follows it (RFC 2104), so a host on the
// segment cannot make a node look alive. Pure parse and build, no I/O; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "packet/bytes.h"
#include "packet/ip_address.h"
#include "packet/mac_address.h"

namespace l2a::wire {

inline constexpr uint16_t kHeartbeatEtherType = 0x88b5;
// 03:...: the multicast and the locally administered bits set; "l2ahb" after it.
inline constexpr packet::MacAddress kHeartbeatGroup{{0x03, 0x6c, 0x32, 0x61, 0x68, 0x62}};
// The addresses a frame lists at most; `announcedCount` still says how many there are.
inline constexpr size_t kMaxListedAddresses = 64;
// The accused names a frame carries at most, in bytes of names.
inline constexpr size_t kMaxAccusedBytes = 256;

struct Heartbeat {
  std::string node;
  std::string port;          // the sender's own name of the interface the frame left by
  uint64_t incarnation = 0;  // changes when the agent restarts
  uint64_t sequence = 0;     // one more per frame the agent sends, on every port
  uint16_t intervalMs = 0;   // how often the sender sends: observers judge silence by it
  uint32_t announcedCount = 0;
  std::vector<packet::IpAddress> announced;  // the first kMaxListedAddresses of them
  // Peers the sender holds wire-dead (see wire/liveness.h), then those it holds down after a
  // silence: as many names as fit, dead ones first. "node/interface" names one interface of a
  // node heard on others (node names never hold a '/').
  std::vector<std::string> accused;
  std::vector<std::string> heldDown;
  bool authenticated = false;                // carried an HMAC (checked by parseHeartbeat)
};

// A whole Ethernet frame from `source`. With a non-empty `key`, authenticated.
packet::Bytes buildHeartbeat(const packet::MacAddress& source, const Heartbeat& heartbeat, std::string_view key = {});

enum class HeartbeatError {
  kTruncated,    // shorter than its fields say
  kNotHeartbeat, // another EtherType, or the magic is wrong
  kBadVersion,   // a version we do not read
  kBadField,     // a field out of range (empty node name, zero interval, unknown family)
  kUnsigned,     // a key is set and the frame carries no HMAC
  kBadHmac,      // the HMAC does not verify with the key (nor with the previous key)
};
std::string_view heartbeatErrorName(HeartbeatError error);

// Parses a whole Ethernet frame. With keys, the frame must verify with one of them (the
// current key and, during a rotation, the previous one).
Result<Heartbeat, HeartbeatError> parseHeartbeat(packet::ByteSpan frame, const std::vector<std::string>& keys = {});

}  // namespace l2a::wire

// PacketSocket: one AF_PACKET socket bound to one interface, with a classic BPF filter in the
// kernel so only the frames its kind needs reach user space. Owns its fd (RAII, move-only);
// used from one thread.
#pragma once

#include <linux/filter.h>

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

#include "common/result.h"
#include "packet/bytes.h"
#include "packet/mac_address.h"

namespace l2a::net {

enum class FrameFilter {
  kRequests,  // untagged ARP requests/replies and ICMPv6 NS/NA (the responder: requests to
              // answer, others' announcements to detect conflicts)
  kReplies,   // untagged ARP replies and ICMPv6 Neighbor Advertisements (whohas)
  kHeartbeats,  // the agents' heartbeats (untagged, EtherType 0x88B5), each stamped with
                // the kernel's time of arrival
};

class PacketSocket {
 public:
  static Result<PacketSocket> open(int ifindex, FrameFilter filter);
  // Whether this process may open AF_PACKET sockets at all; the error names CAP_NET_RAW.
  static Status<> canOpen();
  PacketSocket(PacketSocket&& other) noexcept;
  PacketSocket& operator=(PacketSocket&& other) noexcept;
  PacketSocket(const PacketSocket&) = delete;
  ~PacketSocket();

  int fd() const { return fd_; }
  int ifindex() const { return ifindex_; }
  // One frame into `buffer`; error code "again" when nothing is queued (non-blocking). With
  // `arrived`, when the kernel received it (kHeartbeats sockets; others: now).
  Result<size_t> receive(std::span<std::byte> buffer, std::chrono::system_clock::time_point* arrived = nullptr);
  bool send(packet::ByteSpan frame);
  // The classic BPF program a socket of this kind opens with.
  static std::vector<sock_filter> program(FrameFilter kind);
  // Replaces the socket's classic BPF program (the one its FrameFilter chose, or one set before).
  Status<> setFilter(std::span<const sock_filter> program);
  Status<> joinMulticast(const packet::MacAddress& group);
  Status<> leaveMulticast(const packet::MacAddress& group);

 private:
  PacketSocket(int fd, int ifindex) : fd_(fd), ifindex_(ifindex) {}
  Status<> membership(const packet::MacAddress& group, int operation);
  int fd_ = -1;
  int ifindex_ = 0;
};

}  // namespace l2a::net

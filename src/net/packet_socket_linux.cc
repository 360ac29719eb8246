#include "net/packet_socket.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace l2a::net {
namespace {

constexpr int kReceiveBufferBytes = 4 << 20;

}  // namespace

// Classic BPF: untagged frames only (VLAN traffic belongs to the VLAN's own interface), then ARP
// with one of two operations or IPv6 + ICMPv6 (no extension headers) with one of two types.
// The responder takes requests (ARP request, NS) and others' announcements (ARP reply, NA, for
// conflict detection); whohas takes answers only. The agents' heartbeats have a socket of their
// own, read when the loop turns rather than woken for each. Once a responder's claims are known,
// net::ClaimFilter's program replaces this one.
std::vector<sock_filter> PacketSocket::program(FrameFilter kind) {
  if (kind == FrameFilter::kHeartbeats) {
    return {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),  // tagged: drop
        /* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x88b5, 0, 1),
        /* 4 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
        /* 5 */ BPF_STMT(BPF_RET | BPF_K, 0),
    };
  }
  bool requests = kind == FrameFilter::kRequests;
  uint32_t arpA = requests ? 1 : 2, arpB = 2;
  uint32_t icmpA = requests ? 135 : 136, icmpB = 136;
  return {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                        static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 12),         // tagged: drop
      /* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 3),  // not ARP: try IPv6
      /* 4 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),                // ARP operation
      /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arpA, 7, 0),
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arpB, 6, 7),
      /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 6),
      /* 8 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),                // next header
      /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 4),
      /* 10 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),               // ICMPv6 type
      /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, icmpA, 1, 0),
      /* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, icmpB, 0, 1),
      /* 13 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
      /* 14 */ BPF_STMT(BPF_RET | BPF_K, 0),
  };
}

namespace {

Error socketError(const char* what, int ifindex) {
  char name[IF_NAMESIZE] = "?";
  if_indextoname(static_cast<unsigned>(ifindex), name);
  return Error{"socket", fmt::format("packet socket on {}: {}: {}", name, what, std::strerror(errno))};
}

}  // namespace

Status<> PacketSocket::canOpen() {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    ::close(fd);
    return Ok{};
  }
  if (errno == EPERM || errno == EACCES) {
    return fail(Error{"permission", "AF_PACKET sockets need the CAP_NET_RAW capability, which this process lacks "
                                    "(a container: securityContext.capabilities.add [NET_RAW])"});
  }
  return fail(Error{"socket", fmt::format("AF_PACKET socket: {}", std::strerror(errno))});
}

Result<PacketSocket> PacketSocket::open(int ifindex, FrameFilter filter) {
  // Protocol 0 receives nothing until bind(), so no frame slips in before the filter is set.
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(socketError("socket", ifindex));
  PacketSocket sock(fd, ifindex);

  if (auto attached = sock.setFilter(program(filter)); !attached) return fail(attached.error());
  int one = 1;
  // Our own replies and announcements must not come back to us as requests.
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) {
    return fail(socketError("PACKET_IGNORE_OUTGOING", ifindex));
  }
  int rcvbuf = kReceiveBufferBytes;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);  // best effort
  if (filter == FrameFilter::kHeartbeats && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) {
    return fail(socketError("SO_TIMESTAMPNS", ifindex));
  }

  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return fail(socketError("bind", ifindex));
  }
  return sock;
}

PacketSocket::PacketSocket(PacketSocket&& other) noexcept
    : fd_(other.fd_), ifindex_(other.ifindex_) {
  other.fd_ = -1;
}

PacketSocket& PacketSocket::operator=(PacketSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    ifindex_ = other.ifindex_;
    other.fd_ = -1;
  }
  return *this;
}

PacketSocket::~PacketSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t> PacketSocket::receive(std::span<std::byte> buffer, std::chrono::system_clock::time_point* arrived) {
  for (;;) {
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec))> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (arrived != nullptr) {
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
    }
    ssize_t n = ::recvmsg(fd_, &msg, MSG_TRUNC);
    if (n >= 0) {
      if (arrived != nullptr) {
        *arrived = std::chrono::system_clock::now();
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          *arrived = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
        }
      }
      return static_cast<size_t>(n) > buffer.size() ? buffer.size() : static_cast<size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return fail("again", "no frame queued");
    return fail(socketError("recv", ifindex_));
  }
}

bool PacketSocket::send(packet::ByteSpan frame) {
  for (;;) {
    ssize_t n = ::send(fd_, frame.data(), frame.size(), 0);
    if (n == static_cast<ssize_t>(frame.size())) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

Status<> PacketSocket::setFilter(std::span<const sock_filter> program) {
  // The kernel swaps programs atomically: every frame meets the old one or the new one.
  sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0) {
    return fail(socketError("attach filter", ifindex_));
  }
  return Ok{};
}

Status<> PacketSocket::membership(const packet::MacAddress& group, int operation) {
  packet_mreq mreq{};
  mreq.mr_ifindex = ifindex_;
  mreq.mr_type = PACKET_MR_MULTICAST;
  mreq.mr_alen = 6;
  std::memcpy(mreq.mr_address, group.octets.data(), 6);
  if (setsockopt(fd_, SOL_PACKET, operation, &mreq, sizeof mreq) < 0) {
    return fail(socketError("multicast membership", ifindex_));
  }
  return Ok{};
}

Status<> PacketSocket::joinMulticast(const packet::MacAddress& group) {
  return membership(group, PACKET_ADD_MEMBERSHIP);
}

Status<> PacketSocket::leaveMulticast(const packet::MacAddress& group) {
  return membership(group, PACKET_DROP_MEMBERSHIP);
}

}  // namespace l2a::net

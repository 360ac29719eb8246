#include "net/netlink.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <vector>

namespace l2a::net {
namespace {

using Callback = std::function<void(const nlmsghdr*)>;

Error netlinkError(const char* what) {
  return Error{"netlink", fmt::format("netlink {}: {}", what, std::strerror(errno))};
}

// Sends one request (a dump or a get) and feeds every answer message to `onMessage`.
Status<> request(nlmsghdr* nlh, const Callback& onMessage) {
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  if (nl == nullptr) return fail(netlinkError("open"));
  Status<> status = Ok{};
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    status = fail(netlinkError("bind"));
  } else {
    unsigned portid = mnl_socket_get_portid(nl);
    nlh->nlmsg_seq = static_cast<unsigned>(time(nullptr));
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
      status = fail(netlinkError("send"));
    } else {
      std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
      auto trampoline = [](const nlmsghdr* msg, void* data) -> int {
        (*static_cast<const Callback*>(data))(msg);
        return MNL_CB_OK;
      };
      int ret;
      while ((ret = static_cast<int>(mnl_socket_recvfrom(nl, buf.data(), buf.size()))) > 0) {
        ret = mnl_cb_run(buf.data(), static_cast<size_t>(ret), nlh->nlmsg_seq, portid, trampoline,
                         const_cast<Callback*>(&onMessage));
        // A dump ends with NLMSG_DONE (MNL_CB_STOP); a plain get has one answer and no DONE.
        if (ret <= MNL_CB_STOP || (nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP) break;
      }
      if (ret < 0) status = fail(netlinkError("receive"));
    }
  }
  mnl_socket_close(nl);
  return status;
}

using AttributeCallback = std::function<void(const nlattr*)>;

int attributeTrampoline(const nlattr* attr, void* data) {
  (*static_cast<const AttributeCallback*>(data))(attr);
  return MNL_CB_OK;
}

// libmnl's mnl_attr_for_each macros do not compile as C++; its parse callbacks do.
void forEachAttribute(const nlmsghdr* msg, size_t headerSize, const AttributeCallback& fn) {
  mnl_attr_parse(msg, static_cast<unsigned>(headerSize), attributeTrampoline,
                 const_cast<AttributeCallback*>(&fn));
}

void forEachNested(const nlattr* attr, const AttributeCallback& fn) {
  mnl_attr_parse_nested(attr, attributeTrampoline, const_cast<AttributeCallback*>(&fn));
}

std::optional<packet::IpAddress> addressFromAttribute(int family, const nlattr* attr) {
  const void* data = mnl_attr_get_payload(attr);
  uint16_t length = mnl_attr_get_payload_len(attr);
  if (family == AF_INET && length == 4) {
    packet::Ipv4Address a;
    std::memcpy(a.octets.data(), data, 4);
    return packet::IpAddress{a};
  }
  if (family == AF_INET6 && length == 16) {
    packet::Ipv6Address a;
    std::memcpy(a.octets.data(), data, 16);
    return packet::IpAddress{a};
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<LinkInfo>> dumpLinks() {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;

  std::vector<LinkInfo> links;
  Status<> status = request(nlh, [&links](const nlmsghdr* msg) {
    const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(msg));
    LinkInfo link;
    link.ifindex = info->ifi_index;
    link.ethernet = info->ifi_type == ARPHRD_ETHER;
    link.up = (info->ifi_flags & IFF_UP) != 0;
    link.carrier = (info->ifi_flags & IFF_LOWER_UP) != 0;
    forEachAttribute(msg, sizeof(ifinfomsg), [&link](const nlattr* attr) {
      switch (mnl_attr_get_type(attr)) {
        case IFLA_IFNAME:
          link.name = mnl_attr_get_str(attr);
          break;
        case IFLA_ADDRESS:
          if (mnl_attr_get_payload_len(attr) == 6) {
            std::memcpy(link.mac.octets.data(), mnl_attr_get_payload(attr), 6);
          }
          break;
        case IFLA_LINKINFO:
          forEachNested(attr, [&link](const nlattr* nested) {
            if (mnl_attr_get_type(nested) == IFLA_INFO_KIND) link.kind = mnl_attr_get_str(nested);
          });
          break;
        default:
          break;
      }
    });
    links.push_back(std::move(link));
  });
  if (!status) return fail(status.error());
  return links;
}

Result<std::vector<InterfaceAddress>> dumpAddresses() {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_UNSPEC;

  std::vector<InterfaceAddress> addresses;
  Status<> status = request(nlh, [&addresses](const nlmsghdr* msg) {
    const auto* info = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(msg));
    if ((info->ifa_flags & IFA_F_TENTATIVE) != 0) return;
    forEachAttribute(msg, sizeof(ifaddrmsg), [&addresses, info](const nlattr* attr) {
      if (mnl_attr_get_type(attr) != IFA_ADDRESS) return;
      if (auto address = addressFromAttribute(info->ifa_family, attr)) {
        addresses.push_back({static_cast<int>(info->ifa_index), *address, info->ifa_prefixlen});
      }
    });
  });
  if (!status) return fail(status.error());
  return addresses;
}

Result<RouteLookup> routeTo(const packet::IpAddress& destination) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  if (const auto* v4 = std::get_if<packet::Ipv4Address>(&destination)) {
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 32;
    mnl_attr_put(nlh, RTA_DST, 4, v4->octets.data());
  } else {
    rtm->rtm_family = AF_INET6;
    rtm->rtm_dst_len = 128;
    mnl_attr_put(nlh, RTA_DST, 16, std::get<packet::Ipv6Address>(destination).octets.data());
  }
  int family = rtm->rtm_family;
  RouteLookup route;
  Status<> status = request(nlh, [&route, family](const nlmsghdr* msg) {
    if (msg->nlmsg_type != RTM_NEWROUTE) return;
    forEachAttribute(msg, sizeof(rtmsg), [&route, family](const nlattr* attr) {
      if (mnl_attr_get_type(attr) == RTA_OIF) {
        route.ifindex = static_cast<int>(mnl_attr_get_u32(attr));
      } else if (mnl_attr_get_type(attr) == RTA_PREFSRC) {
        route.preferredSource = addressFromAttribute(family, attr);
      }
    });
  });
  if (!status) return fail(status.error());
  if (route.ifindex == 0) {
    return fail("no_route", fmt::format("no route to {}", packet::toString(destination)));
  }
  return route;
}

Result<LinkWatcher> LinkWatcher::open() {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (nl == nullptr) return fail(netlinkError("open"));
  if (mnl_socket_bind(nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
                      MNL_SOCKET_AUTOPID) < 0) {
    Error error = netlinkError("bind");
    mnl_socket_close(nl);
    return fail(error);
  }
  return LinkWatcher(nl);
}

LinkWatcher::LinkWatcher(LinkWatcher&& other) noexcept : socket_(other.socket_) {
  other.socket_ = nullptr;
}

LinkWatcher::~LinkWatcher() {
  if (socket_ != nullptr) mnl_socket_close(socket_);
}

int LinkWatcher::fd() const { return mnl_socket_get_fd(socket_); }

bool LinkWatcher::drain() {
  bool changed = false;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(socket_, buf.data(), buf.size());
    if (n < 0) {
      if (errno == ENOBUFS) changed = true;  // overflow: events lost, re-read everything
      if (errno == EINTR || errno == ENOBUFS) continue;
      break;  // EAGAIN: drained
    }
    const auto* msg = reinterpret_cast<const nlmsghdr*>(buf.data());
    int remaining = static_cast<int>(n);
    for (; mnl_nlmsg_ok(msg, remaining); msg = mnl_nlmsg_next(msg, &remaining)) {
      if (msg->nlmsg_type == RTM_NEWLINK || msg->nlmsg_type == RTM_DELLINK) changed = true;
    }
  }
  return changed;
}

}  // namespace l2a::net

#include "cli/whohas_command.h"

#include <fmt/format.h>
#include <net/if.h>
#include <poll.h>

#include <array>
#include <chrono>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "net/neighbor_probe.h"
#include "net/netlink.h"
#include "net/packet_socket.h"

namespace l2a::cli {
namespace {

using packet::IpAddress;
using packet::Ipv4Address;
using packet::Ipv6Address;

// The address to ask from: for IPv4 the route's preferred source or the interface's first IPv4
// address, else 0.0.0.0 (an RFC 5227 probe); for IPv6 the interface's link-local address, else
// any of its addresses, else :: (a DAD-style solicitation).
IpAddress sourceFor(const IpAddress& target, int ifindex,
                    const std::optional<IpAddress>& preferred) {
  bool v4 = std::holds_alternative<Ipv4Address>(target);
  if (preferred && preferred->index() == target.index()) return *preferred;
  std::optional<IpAddress> any;
  if (auto addresses = net::dumpAddresses()) {
    for (const net::InterfaceAddress& a : *addresses) {
      if (a.ifindex != ifindex || a.address.index() != target.index()) continue;
      if (v4) return a.address;
      if (std::get<Ipv6Address>(a.address).isLinkLocal()) return a.address;
      if (!any) any = a.address;
    }
  }
  if (any) return *any;
  return v4 ? IpAddress{Ipv4Address{}} : IpAddress{Ipv6Address{}};
}

int usage(const std::string& message) {
  fmt::print(stderr, "l2a: error: {}\n", message);
  return kExitUsage;
}

}  // namespace

Result<ProbeResult> probeOwners(const WhohasOptions& options) {
  auto target = packet::parseIpAddress(options.address);
  if (!target) return fail("usage", fmt::format("invalid IP address '{}'", options.address));
  if (options.timeoutMs <= 0) return fail("usage", "--timeout must be a positive number of milliseconds");
  int ifindex = 0;
  std::optional<IpAddress> preferredSource;
  if (!options.interface.empty()) {
    ifindex = static_cast<int>(if_nametoindex(options.interface.c_str()));
    if (ifindex == 0) return fail("usage", fmt::format("unknown interface '{}'", options.interface));
  } else {
    auto route = net::routeTo(*target);
    if (!route) return fail("usage", fmt::format("{}; name the interface with --interface", route.error().message));
    ifindex = route->ifindex;
    preferredSource = route->preferredSource;
  }
  auto links = net::dumpLinks();
  if (!links) return fail("system", links.error().message);
  const net::LinkInfo* link = nullptr;
  for (const auto& l : *links) {
    if (l.ifindex == ifindex) link = &l;
  }
  if (link == nullptr || !link->ethernet) {
    return fail("usage", fmt::format("interface index {} is not an Ethernet interface", ifindex));
  }
  auto sock = net::PacketSocket::open(ifindex, net::FrameFilter::kReplies);
  if (!sock) return fail("system", sock.error().message);
  if (std::holds_alternative<Ipv6Address>(*target)) {
    // Answers to a DAD-style probe go to all-nodes; make sure the NIC passes them up.
    (void)sock->joinMulticast(Ipv6Address::allNodes().multicastMac());
  }
  // The agents' heartbeats ride another filter: a second socket, only when asked.
  std::optional<net::PacketSocket> listener;
  if (options.heartbeats) {
    if (auto opened = net::PacketSocket::open(ifindex, net::FrameFilter::kRequests)) {
      listener.emplace(std::move(opened).value());
      (void)listener->joinMulticast(wire::kHeartbeatGroup);
    }
  }
  std::map<std::string, wire::Heartbeat> heard;
  IpAddress source = sourceFor(*target, ifindex, preferredSource);
  net::NeighborProbe probe(link->mac, source, *target);
  packet::Bytes request = probe.request();

  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto deadline = start + std::chrono::milliseconds(options.timeoutMs);
  // Ask again half-way through, in case the first request or its answer was lost.
  auto resendAt = start + std::chrono::milliseconds(options.timeoutMs / 2);
  bool resent = false;
  sock->send(request);
  std::array<std::byte, 2048> buffer;
  for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
    if (!resent && now >= resendAt) {
      sock->send(request);
      resent = true;
    }
    auto until = resent ? deadline : resendAt;
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
    std::array<pollfd, 2> pfds{pollfd{sock->fd(), POLLIN, 0}, pollfd{listener ? listener->fd() : -1, POLLIN, 0}};
    if (poll(pfds.data(), pfds.size(), static_cast<int>(std::max<int64_t>(wait, 0))) <= 0) continue;
    while (auto n = sock->receive(buffer)) {
      probe.observe(std::span<const std::byte>(buffer.data(), *n));
    }
    while (listener) {
      auto n = listener->receive(buffer);
      if (!n) break;
      // Read, not verified: explain observes what the agents hear (a signed frame reads the same).
      if (auto h = wire::parseHeartbeat(std::span<const std::byte>(buffer.data(), *n))) heard[h->node] = *h;
    }
  }
  ProbeResult result{link->name, packet::toString(source), {}, std::move(heard)};
  for (const auto& mac : probe.owners()) result.owners.push_back(mac.toString());
  return result;
}

int runWhohas(const WhohasOptions& options) {
  if (options.output != "text" && options.output != "json") {
    return usage(fmt::format("unknown --output '{}' (text or json)", options.output));
  }
  auto result = probeOwners(options);
  if (!result) {
    if (result.error().code == "usage") return usage(result.error().message);
    fmt::print(stderr, "l2a: error: {}\n", result.error().message);
    return kExitSoftware;
  }
  const auto& owners = result->owners;
  std::string address = packet::toString(*packet::parseIpAddress(options.address));
  int status = owners.empty() ? kExitFailure : owners.size() == 1 ? kExitOk : 2;
  const char* verdict = owners.empty() ? "nobody" : owners.size() == 1 ? "owned" : "conflict";
  if (options.output == "json") {
    nlohmann::json out{{"address", address},
                       {"interface", result->interface},
                       {"source", result->source},
                       {"timeout_ms", options.timeoutMs},
                       {"verdict", verdict},
                       {"owners", nlohmann::json::array()}};
    for (const auto& mac : owners) out["owners"].push_back({{"mac", mac}, {"interface", result->interface}});
    fmt::print("{}\n", out.dump());
  } else if (owners.empty()) {
    fmt::print("{}: nobody answered on {} within {} ms\n", address, result->interface, options.timeoutMs);
  } else {
    for (const auto& mac : owners) fmt::print("{} is at {} (via {})\n", address, mac, result->interface);
    if (owners.size() > 1) fmt::print("conflict: {} different MACs answer for {}\n", owners.size(), address);
  }
  return status;
}

}  // namespace l2a::cli

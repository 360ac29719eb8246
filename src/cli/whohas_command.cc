#include "cli/whohas_command.h"

#include <fmt/format.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "common/timestamps.h"
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

namespace {

// An open question on one interface: the sockets, the request, who answered. `l2a whohas` asks
// once; `--watch` asks round after round on the same sockets.
struct ProbeSession {
  std::string interface;
  IpAddress source;
  packet::MacAddress mac;
  IpAddress target;
  net::PacketSocket socket;
  std::optional<net::PacketSocket> heartbeats;  // the agents' heartbeats ride another filter
};

Result<ProbeSession> openProbe(const WhohasOptions& options) {
  auto target = packet::parseIpAddress(options.address);
  if (!target) return fail("usage", fmt::format("invalid IP address '{}'", options.address));
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
  ProbeSession session{link->name, sourceFor(*target, ifindex, preferredSource), link->mac, *target,
                       std::move(sock).value(), std::nullopt};
  if (options.heartbeats) {
    if (auto opened = net::PacketSocket::open(ifindex, net::FrameFilter::kHeartbeats)) {
      session.heartbeats.emplace(std::move(opened).value());
      (void)session.heartbeats->joinMulticast(wire::kHeartbeatGroup);
    }
  }
  return session;
}

// One round: asks, and collects answers for `ms` milliseconds, asking again half-way through
// when `askTwice` (in case the first request or its answer was lost). Stops early when
// `stopFd` (a signalfd; -1: none) becomes readable. Returns the MACs in the order they answered.
std::vector<std::string> askRound(ProbeSession& session, int ms, bool askTwice, int stopFd,
                                  std::map<std::string, wire::Heartbeat>* heard) {
  net::NeighborProbe probe(session.mac, session.source, session.target);
  packet::Bytes request = probe.request();
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto deadline = start + std::chrono::milliseconds(ms);
  auto resendAt = start + std::chrono::milliseconds(ms / 2);
  bool resent = !askTwice;
  session.socket.send(request);
  std::array<std::byte, 2048> buffer;
  for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
    if (!resent && now >= resendAt) {
      session.socket.send(request);
      resent = true;
    }
    auto until = resent ? deadline : resendAt;
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
    std::array<pollfd, 3> pfds{pollfd{session.socket.fd(), POLLIN, 0},
                               pollfd{session.heartbeats ? session.heartbeats->fd() : -1, POLLIN, 0},
                               pollfd{stopFd, POLLIN, 0}};
    if (poll(pfds.data(), pfds.size(), static_cast<int>(std::max<int64_t>(wait, 0))) <= 0) continue;
    if (pfds[2].revents != 0) break;
    while (auto n = session.socket.receive(buffer)) {
      probe.observe(std::span<const std::byte>(buffer.data(), *n));
    }
    while (session.heartbeats && heard != nullptr) {
      auto n = session.heartbeats->receive(buffer);
      if (!n) break;
      // Read, not verified: explain observes what the agents hear (a signed frame reads the same).
      if (auto h = wire::parseHeartbeat(std::span<const std::byte>(buffer.data(), *n))) (*heard)[h->node] = *h;
    }
  }
  std::vector<std::string> owners;
  for (const auto& mac : probe.owners()) owners.push_back(mac.toString());
  return owners;
}

const char* verdictOf(const std::vector<std::string>& owners) {
  return owners.empty() ? "nobody" : owners.size() == 1 ? "owned" : "conflict";
}

// `--watch`: a round every interval until SIGINT/SIGTERM, one line per change of what the LAN
// answers (owner, silence, conflict) with the time it was seen and how long the previous state
// lasted — a fail-over read as it happens.
int watchOwners(const WhohasOptions& options, ProbeSession& session) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  int stopFd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  std::string address = packet::toString(session.target);
  std::optional<std::vector<std::string>> last;
  auto since = std::chrono::steady_clock::now();
  while (true) {
    std::vector<std::string> owners = askRound(session, options.intervalMs, false, stopFd, nullptr);
    std::sort(owners.begin(), owners.end());  // a change is a different set, not another order
    pollfd stop{stopFd, POLLIN, 0};
    if (poll(&stop, 1, 0) > 0) break;
    if (last && *last == owners) continue;
    auto now = std::chrono::steady_clock::now();
    // The change happened within the round just ended: date it at the round's start.
    auto seen = std::chrono::system_clock::now() - std::chrono::milliseconds(options.intervalMs);
    auto lastedMs = std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
    since = now;
    std::string when = common::rfc3339Micros(seen);
    if (options.output == "json") {
      nlohmann::ordered_json line{{"time", when}, {"address", address}, {"interface", session.interface},
                                  {"verdict", verdictOf(owners)}, {"owners", owners}};
      if (last) {
        line["previous"] = nlohmann::ordered_json{{"verdict", verdictOf(*last)}, {"owners", *last}, {"lastedMs", lastedMs}};
      }
      fmt::print("{}\n", line.dump());
    } else {
      std::string state = owners.empty()        ? "nobody answers"
                        : owners.size() == 1 ? fmt::format("owned by {}", owners[0])
                                             : fmt::format("conflict: {}", fmt::join(owners, ", "));
      std::string before;
      if (last) {
        before = last->empty()          ? fmt::format(" (after {} ms of silence)", lastedMs)
                 : last->size() == 1 ? fmt::format(" ({} answered for {} ms)", (*last)[0], lastedMs)
                                     : fmt::format(" (after {} ms of conflict)", lastedMs);
      }
      fmt::print("{} {} {}{}\n", when, address, state, before);
    }
    std::fflush(stdout);
    last = std::move(owners);
  }
  ::close(stopFd);
  return kExitOk;
}

}  // namespace

Result<ProbeResult> probeOwners(const WhohasOptions& options) {
  if (options.timeoutMs <= 0) return fail("usage", "--timeout must be a positive number of milliseconds");
  auto session = openProbe(options);
  if (!session) return fail(session.error());
  std::map<std::string, wire::Heartbeat> heard;
  std::vector<std::string> owners = askRound(*session, options.timeoutMs, true, -1, &heard);
  return ProbeResult{session->interface, packet::toString(session->source), std::move(owners), std::move(heard)};
}

int runWhohas(const WhohasOptions& options) {
  if (options.output != "text" && options.output != "json") {
    return usage(fmt::format("unknown --output '{}' (text or json)", options.output));
  }
  if (options.watch) {
    if (options.intervalMs < 10) return usage("--interval must be at least 10 milliseconds");
    auto session = openProbe(options);
    if (!session) {
      if (session.error().code == "usage") return usage(session.error().message);
      fmt::print(stderr, "l2a: error: {}\n", session.error().message);
      return kExitSoftware;
    }
    return watchOwners(options, *session);
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
  const char* verdict = verdictOf(owners);
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

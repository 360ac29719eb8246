#include "lab/probe_command.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "lab/client_interface.h"
#include "lab/probe_timeline.h"
#include "net/neighbor_probe.h"
#include "net/packet_socket.h"
#include "packet/ethernet.h"

namespace l2a::lab {
namespace {

using Clock = std::chrono::steady_clock;
using packet::IpAddress;
using packet::Ipv4Address;
using packet::Ipv6Address;

struct Target {
  std::string text;
  IpAddress address;
  std::optional<net::NeighborProbe> probe;
  packet::Bytes request;
  std::vector<std::string> windowMacs;
  double windowSentMs = -1;
  ProbeTimeline timeline;
};

struct Connect {
  int fd;
  size_t target;
  double sentMs;
  Clock::time_point deadline;
};

// A non-blocking TCP connect to ADDRESS:PORT; -1 when the socket could not even be created
// (counted as lost by the caller).
int startConnect(const IpAddress& address, int port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (const auto* v4 = std::get_if<Ipv4Address>(&address)) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&sin->sin_addr, v4->octets.data(), 4);
    length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&sin6->sin6_addr, std::get<Ipv6Address>(address).octets.data(), 16);
    length = sizeof(sockaddr_in6);
  }
  int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

// Closes with a reset so thousands of probe connections leave no TIME_WAIT behind.
void closeNow(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

int usage(const std::string& message) {
  fmt::print(stderr, "l2a-lab: error: {}\n", message);
  return 64;
}

}  // namespace

int runProbe(const ProbeOptions& options) {
  if (options.targets.empty()) return usage("probe needs at least one --target");
  if (options.intervalMs <= 0 || options.timeoutMs <= 0 || options.durationMs < 0) {
    return usage("--interval-ms and --timeout-ms must be positive, --duration-ms not negative");
  }
  auto client = findClientInterface(options.interface);
  if (!client) {
    if (client.error().code == "usage") return usage(client.error().message);
    fmt::print(stderr, "l2a-lab: error: {}\n", client.error().message);
    return 1;
  }
  int ifindex = client->ifindex;
  const packet::MacAddress& ourMac = client->mac;
  std::optional<IpAddress> source4, source6;
  if (client->ipv4) source4 = *client->ipv4;
  if (client->ipv6) source6 = *client->ipv6;
  std::vector<Target> targets;
  for (const auto& text : options.targets) {
    auto address = packet::parseIpAddress(text);
    if (!address) return usage(fmt::format("invalid IP address '{}'", text));
    const auto& source = std::holds_alternative<Ipv4Address>(*address) ? source4 : source6;
    if (!source) return usage(fmt::format("{} has no address of the family of {}", options.interface, text));
    Target t{text, *address, std::nullopt, {}, {}, -1, {}};
    t.probe.emplace(ourMac, *source, *address);
    t.request = t.probe->request();
    targets.push_back(std::move(t));
  }
  auto sock = net::PacketSocket::open(ifindex, net::FrameFilter::kReplies);
  if (!sock) {
    fmt::print(stderr, "l2a-lab: error: {}\n", sock.error().message);
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  int signalFd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);

  auto start = Clock::now();
  auto msSince = [start](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(t - start).count();
  };
  auto interval = std::chrono::milliseconds(options.intervalMs);
  auto timeout = std::chrono::milliseconds(options.timeoutMs);
  std::optional<Clock::time_point> stopAt;
  if (options.durationMs > 0) stopAt = start + std::chrono::milliseconds(options.durationMs);
  auto nextTick = start;
  std::vector<Connect> inFlight;
  std::array<std::byte, 2048> buffer;
  bool stopping = false, readyWritten = false;

  auto closeWindows = [&] {
    for (auto& t : targets) {
      if (t.windowSentMs >= 0) t.timeline.recordWindow(t.windowSentMs, std::move(t.windowMacs));
      t.windowMacs.clear();
    }
  };
  while (!stopping || !inFlight.empty()) {
    auto now = Clock::now();
    if (!stopping && stopAt && now >= *stopAt) stopping = true;
    if (!stopping && now >= nextTick) {
      closeWindows();
      double sentMs = msSince(now);
      for (size_t i = 0; i < targets.size(); ++i) {
        auto& t = targets[i];
        sock->send(t.request);
        t.windowSentMs = sentMs;
        int fd = startConnect(t.address, options.port);
        if (fd < 0) {
          t.timeline.recordConnect(sentMs, false);
        } else {
          inFlight.push_back({fd, i, sentMs, now + timeout});
        }
      }
      nextTick += interval;
      if (nextTick < now) nextTick = now + interval;  // fell behind: do not burst
      if (!readyWritten && !options.readyFile.empty()) {
        std::ofstream(options.readyFile) << "probing\n";
        readyWritten = true;
      }
    }
    // Wait for a frame, a connect completing, a signal, the next tick or a deadline.
    std::vector<pollfd> fds;
    fds.push_back({sock->fd(), POLLIN, 0});
    fds.push_back({signalFd, POLLIN, 0});
    for (const auto& c : inFlight) fds.push_back({c.fd, POLLOUT, 0});
    auto wakeAt = stopping ? now + timeout : nextTick;
    for (const auto& c : inFlight) wakeAt = std::min(wakeAt, c.deadline);
    if (stopAt && !stopping) wakeAt = std::min(wakeAt, *stopAt);
    auto waitMs = std::chrono::ceil<std::chrono::milliseconds>(wakeAt - Clock::now()).count();
    poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(waitMs, 0)));
    now = Clock::now();
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(signalFd, &info, sizeof(info)) == sizeof(info)) stopping = true;
    }
    if (fds[0].revents & POLLIN) {
      while (auto n = sock->receive(buffer)) {
        std::span<const std::byte> frame(buffer.data(), *n);
        auto eth = packet::parseEthernet(frame);
        // Answers come back unicast to us; gratuitous announcements (broadcast, all-nodes)
        // are claims, not answers to this window's question.
        if (!eth || eth->header.destination != ourMac) continue;
        for (auto& t : targets) {
          if (auto mac = t.probe->answerFrom(frame)) t.windowMacs.push_back(mac->toString());
        }
      }
    }
    std::vector<Connect> still;
    for (size_t k = 0; k < inFlight.size(); ++k) {
      const Connect& c = inFlight[k];
      short revents = fds[k + 2].revents;
      if (revents != 0) {
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        targets[c.target].timeline.recordConnect(c.sentMs, error == 0 && (revents & POLLOUT));
        closeNow(c.fd);
      } else if (now >= c.deadline) {
        targets[c.target].timeline.recordConnect(c.sentMs, false);
        closeNow(c.fd);
      } else {
        still.push_back(c);
      }
    }
    inFlight = std::move(still);
  }
  closeWindows();
  close(signalFd);
  nlohmann::json out{{"intervalMs", options.intervalMs}, {"timeoutMs", options.timeoutMs},
                     {"durationMs", msSince(Clock::now())}, {"targets", nlohmann::json::object()}};
  for (const auto& t : targets) out["targets"][t.text] = t.timeline.summarize().toJson();
  fmt::print("{}\n", out.dump());
  return 0;
}

}  // namespace l2a::lab

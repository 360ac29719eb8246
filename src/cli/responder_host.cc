#include "cli/responder_host.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "net/claim_filter.h"

namespace l2a::cli {

Result<std::unique_ptr<ResponderHost>> ResponderHost::create(k8s::InterfaceSelector interfaces,
                                                             responder::AnnouncementConfig config) {
  // Without CAP_NET_RAW every port would fail to open, one log line at a time, while the process
  // looked alive: say it once, up front, and stop.
  if (auto probe = net::PacketSocket::canOpen(); !probe) return fail(probe.error());
  auto loop = net::EventLoop::create();
  if (!loop) return fail(loop.error());
  auto watcher = net::LinkWatcher::open();
  if (!watcher) return fail(watcher.error());
  std::unique_ptr<ResponderHost> host(new ResponderHost(
      std::move(loop).value(), std::move(watcher).value(), std::move(interfaces), config));
  host->loop_.add(host->watcher_.fd(), [h = host.get()] {
    if (h->watcher_.drain()) h->refreshLinks();
  });
  host->refreshLinks();
  return host;
}

ResponderHost::ResponderHost(net::EventLoop loop, net::LinkWatcher watcher,
                             k8s::InterfaceSelector interfaces,
                             responder::AnnouncementConfig config)
    : loop_(std::move(loop)),
      watcher_(std::move(watcher)),
      interfaces_(std::move(interfaces)),
      responder_(*this, config, [this] { loop_.wake(); }) {}

void ResponderHost::refreshLinks() {
  auto links = net::dumpLinks();
  if (!links) {
    spdlog::error("event=link_dump_failed error=\"{}\"", links.error().message);
    return;
  }
  std::vector<responder::Port> ports;
  std::map<int, net::PacketSocket> kept;
  for (const net::LinkInfo& link : *links) {
    if (!link.ethernet || !interfaces_.matches(link.name)) continue;
    if (!link.up || !link.carrier) continue;
    auto existing = sockets_.find(link.ifindex);
    if (existing != sockets_.end()) {
      kept.emplace(link.ifindex, std::move(existing->second));
      sockets_.erase(existing);
    } else {
      auto sock = net::PacketSocket::open(link.ifindex, net::FrameFilter::kRequests);
      if (!sock) {
        spdlog::error("event=port_open_failed interface={} error=\"{}\"", link.name,
                      sock.error().message);
        continue;
      }
      loop_.add(sock->fd(), [this, ifindex = link.ifindex] { receiveFrom(ifindex); });
      spdlog::info("event=port_up interface={} ifindex={} mac={} kind={}", link.name,
                   link.ifindex, link.mac.toString(), link.kind.empty() ? "-" : link.kind);
      kept.emplace(link.ifindex, std::move(sock).value());
    }
    ports.push_back({link.ifindex, link.name, link.mac});
  }
  for (auto& [ifindex, sock] : sockets_) {  // what is left went away or down
    loop_.remove(sock.fd());
    filters_.erase(ifindex);
    spdlog::info("event=port_down ifindex={}", ifindex);
  }
  sockets_ = std::move(kept);
  openHeartbeatSockets(ports);
  responder_.setPorts(ports);
  if (heartbeats_) heartbeats_->setPorts(ports);
  if (linksChanged_) linksChanged_();
}

void ResponderHost::receiveFrom(int ifindex) {
  std::array<std::byte, 2048> buffer;
  if (responder::Clock::now() - lastTurn_ > kStall) {
    auto it = sockets_.find(ifindex);
    int discarded = 0;
    while (it != sockets_.end() && it->second.receive(buffer)) {
      responder_.countDrop(ifindex, packet::DropReason::kStale);
      ++discarded;
    }
    spdlog::warn("event=stall_recovered ifindex={} discarded={} note=\"frames queued during a stall are not answered\"",
                 ifindex, discarded);
    return;
  }
  // Bounded batch so one flooded port cannot starve the others or the timers.
  for (int i = 0; i < 256; ++i) {
    auto it = sockets_.find(ifindex);
    if (it == sockets_.end()) return;
    auto n = it->second.receive(buffer);
    if (!n) return;
    std::span<const std::byte> frame(buffer.data(), *n);
    responder_.handleFrame(ifindex, frame);
  }
}

wire::Heartbeats& ResponderHost::enableHeartbeats(wire::HeartbeatOptions options, std::function<void()> changed) {
  heartbeats_ = std::make_unique<wire::Heartbeats>(*this, std::move(options), std::move(changed));
  openHeartbeatSockets(responder_.ports());
  heartbeats_->setPorts(responder_.ports());
  return *heartbeats_;
}

void ResponderHost::openHeartbeatSockets(const std::vector<responder::Port>& ports) {
  if (!heartbeats_) return;
  std::erase_if(heartbeatSockets_, [this](const auto& entry) { return !sockets_.count(entry.first); });
  for (const responder::Port& port : ports) {
    if (heartbeatSockets_.count(port.ifindex)) continue;
    auto opened = net::PacketSocket::open(port.ifindex, net::FrameFilter::kHeartbeats);
    if (!opened) {
      spdlog::error("event=port_open_failed interface={} error=\"{}\"", port.name, opened.error().message);
      continue;
    }
    heartbeatSockets_.emplace(port.ifindex, std::move(opened).value());
  }
}

responder::Clock::time_point ResponderHost::arrivalTime(responder::Clock::time_point now,
                                                        std::chrono::system_clock::time_point wallNow,
                                                        std::chrono::system_clock::time_point arrived,
                                                        responder::Clock::time_point lastDrain) {
  auto at = now - std::chrono::duration_cast<responder::Clock::duration>(wallNow - arrived);
  return std::clamp(at, std::min(lastDrain, now), now);
}

void ResponderHost::drainHeartbeats(responder::Clock::time_point now) {
  std::array<std::byte, 2048> buffer;
  auto wallNow = std::chrono::system_clock::now();
  for (auto& [ifindex, sock] : heartbeatSockets_) {
    for (int i = 0; i < kHeartbeatsPerDrain; ++i) {
      std::chrono::system_clock::time_point arrived;
      auto n = sock.receive(buffer, &arrived);
      if (!n) break;
      heartbeats_->handleFrame(ifindex, std::span<const std::byte>(buffer.data(), *n),
                               arrivalTime(now, wallNow, arrived, lastDrain_));
    }
  }
  lastDrain_ = now;
}

void ResponderHost::run() {
  loop_.run([this] {
    lastTurn_ = responder::Clock::now();
    if (heartbeats_) drainHeartbeats(lastTurn_);
    auto next = responder_.tick(lastTurn_);
    auto turn = lastTurn_ + kTurn;
    if (heartbeats_) turn = std::min(turn, heartbeats_->tick(lastTurn_));
    return next ? std::min(*next, turn) : turn;
  });
}

bool ResponderHost::send(int ifindex, packet::ByteSpan frame) {
  auto it = sockets_.find(ifindex);
  return it != sockets_.end() && it->second.send(frame);
}

void ResponderHost::joinMulticast(int ifindex, const packet::MacAddress& group) {
  auto it = sockets_.find(ifindex);
  if (it == sockets_.end()) return;
  if (auto status = it->second.joinMulticast(group); !status) {
    spdlog::warn("event=multicast_join_failed error=\"{}\"", status.error().message);
  }
}

void ResponderHost::leaveMulticast(int ifindex, const packet::MacAddress& group) {
  auto it = sockets_.find(ifindex);
  if (it != sockets_.end()) (void)it->second.leaveMulticast(group);
}

void ResponderHost::filterClaims(int ifindex, std::span<const packet::IpAddress> claimed) {
  auto it = sockets_.find(ifindex);
  if (it == sockets_.end()) return;
  auto program = net::ClaimFilter::program(claimed);
  ClaimFilterState& state = filters_[ifindex];
  auto same = [](const sock_filter& a, const sock_filter& b) {
    return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
  };
  if (std::equal(program.begin(), program.end(), state.program.begin(), state.program.end(), same)) return;
  auto attached = it->second.setFilter(program);
  if (attached) {
    state = {std::move(program), false};
    return;
  }
  if (!state.refused) {
    spdlog::warn("event=claim_filter_failed ifindex={} claims={} error=\"{}\" note=\"every request reaches the responder\"",
                 ifindex, claimed.size(), attached.error().message);
  }
  state = {{}, true};
  (void)it->second.setFilter(net::PacketSocket::program(net::FrameFilter::kRequests));
}

}  // namespace l2a::cli

#include "wire/heartbeats.h"

#include <algorithm>
#include <cmath>

namespace l2a::wire {
namespace {

uint64_t clockIncarnation() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

Heartbeats::Heartbeats(responder::FrameIo& io, HeartbeatOptions options, std::function<void()> changed,
                       Clock::time_point now)
    : io_(io),
      options_([&] {
        if (options.incarnation == 0) options.incarnation = clockIncarnation();
        return options;
      }()),
      changed_(std::move(changed)),
      liveness_(options_.node, options_.liveness, now),
      nextSend_(now) {}

std::chrono::milliseconds Heartbeats::interval(Clock::time_point now) const {
  double nodes = static_cast<double>(liveness_.heardCount(now) + 1);
  auto budget = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(nodes * 1000 / HeartbeatOptions::kSegmentBudget)));
  return std::min(std::max(options_.interval, budget), std::chrono::milliseconds(60000));
}

void Heartbeats::setPorts(const std::vector<responder::Port>& ports) {
  ports_ = ports;
  std::set<int> wanted;
  for (const auto& p : ports) wanted.insert(p.ifindex);
  for (int ifindex : wanted) {
    if (!joined_.count(ifindex)) io_.joinMulticast(ifindex, kHeartbeatGroup);
  }
  joined_ = std::move(wanted);  // a port that went away took its membership with its socket
  std::lock_guard lock(mutex_);
  nextSend_ = Clock::time_point::min();  // new ports hear from us at once
}

bool Heartbeats::handleFrame(int ifindex, packet::ByteSpan frame, Clock::time_point now) {
  // Untagged and of our EtherType: bytes 12 and 13.
  if (frame.size() < 14 || frame[12] != std::byte{0x88} || frame[13] != std::byte{0xb5}) return false;
  std::string port = std::to_string(ifindex);
  for (const auto& p : ports_) {
    if (p.ifindex == ifindex) port = p.name;
  }
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    auto heartbeat = parseHeartbeat(frame, keys_);
    if (!heartbeat) {
      ++stats_.rejected[std::string(heartbeatErrorName(heartbeat.error()))];
      return true;
    }
    changed = liveness_.heard(*heartbeat, port, now);
  }
  if (changed && changed_) changed_();
  return true;
}

Clock::time_point Heartbeats::tick(Clock::time_point now) {
  std::vector<packet::Bytes> frames;
  bool changed = false;
  Clock::time_point next;
  {
    std::lock_guard lock(mutex_);
    changed = liveness_.evaluate(now);
    auto every = interval(now);
    stats_.interval = every;
    if (now >= nextSend_) {
      Heartbeat heartbeat{.node = options_.node,
                          .incarnation = options_.incarnation,
                          .sequence = ++sequence_,
                          .intervalMs = static_cast<uint16_t>(std::min<int64_t>(every.count(), 60000)),
                          .announcedCount = static_cast<uint32_t>(announced_.size()),
                          .announced = {},
                          .accused = liveness_.accused(now),
                          .heldDown = liveness_.heldDown(now)};
      heartbeat.accused.insert(heartbeat.accused.end(), leaseDead_.begin(), leaseDead_.end());
      heartbeat.announced.assign(announced_.begin(),
                                 announced_.begin() + static_cast<std::ptrdiff_t>(std::min(announced_.size(), kMaxListedAddresses)));
      std::string key = keys_.empty() ? std::string() : keys_.front();
      for (const auto& port : ports_) {
        heartbeat.port = port.name;
        frames.push_back(buildHeartbeat(port.mac, heartbeat, key));
      }
      nextSend_ = now + every;
    }
    // Judge again when the first heard peer's window would run out, or at the next send.
    next = nextSend_;
    for (const auto& [node, peer] : liveness_.peers()) {
      auto window = options_.liveness.misses * peer.interval + std::chrono::milliseconds(1);
      if (peer.lastHeard + window > now) next = std::min(next, peer.lastHeard + window);
      for (const auto& [name, port] : peer.ports) {
        if (port.lastHeard + window > now) next = std::min(next, port.lastHeard + window);
      }
    }
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    bool ok = io_.send(ports_[i].ifindex, frames[i]);
    std::lock_guard lock(mutex_);
    ++(ok ? stats_.sent : stats_.sendFailures);
  }
  if (changed && changed_) changed_();
  return next;
}

void Heartbeats::setAnnounced(std::vector<packet::IpAddress> addresses) {
  std::lock_guard lock(mutex_);
  announced_ = std::move(addresses);
}

void Heartbeats::setLeaseDead(std::vector<std::string> nodes) {
  std::lock_guard lock(mutex_);
  leaseDead_ = std::move(nodes);
}

void Heartbeats::setKeys(std::vector<std::string> keys) {
  std::erase_if(keys, [](const std::string& k) { return k.empty(); });
  std::lock_guard lock(mutex_);
  keys_ = std::move(keys);
}

void Heartbeats::judge(WireView& out, Clock::time_point now) const {
  out.enabled = options_.interval.count() > 0;
  out.isolated = liveness_.isolated(now);
  out.excluded = liveness_.excluded(now);
}

WireView Heartbeats::view(Clock::time_point now) const {
  WireView out;
  std::lock_guard lock(mutex_);
  judge(out, now);
  out.lastResort = liveness_.lastResort(now);
  for (const auto& [node, peer] : liveness_.peers()) {
    if (now - peer.lastHeard > options_.liveness.misses * peer.interval) continue;
    out.heard.insert(node);
    out.announced[node] = peer.announced;
    if (peer.announcedCount <= peer.announced.size()) out.listedAll.insert(node);
  }
  return out;
}

WireView Heartbeats::verdicts(Clock::time_point now) const {
  WireView out;
  std::lock_guard lock(mutex_);
  judge(out, now);
  return out;
}

HeartbeatStats Heartbeats::stats(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  HeartbeatStats out = stats_;
  auto accused = liveness_.accused(now);
  auto held = liveness_.heldDown(now);
  accused.insert(accused.end(), held.begin(), held.end());
  for (const auto& [node, peer] : liveness_.peers()) {
    out.peers[node] = PeerCounters{.received = peer.received,
                                   .missed = peer.missed,
                                   .deadTransitions = peer.deadTransitions,
                                   .restarts = peer.restarts,
                                   .heard = now - peer.lastHeard <= options_.liveness.misses * peer.interval,
                                   .excluded = std::find(accused.begin(), accused.end(), node) != accused.end(),
                                   .silentInterfaces = static_cast<uint64_t>(std::count_if(
                                       accused.begin(), accused.end(),
                                       [prefix = node + "/"](const std::string& a) { return a.starts_with(prefix); }))};
  }
  return out;
}

}  // namespace l2a::wire

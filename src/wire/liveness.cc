#include "wire/liveness.h"

#include <algorithm>

namespace l2a::wire {

Liveness::Liveness(std::string self, LivenessOptions options, Clock::time_point now)
    : self_(std::move(self)), options_(options), judgingFrom_(now) {}

// No peer heard within its window: the latest end of a window any frame opened has passed.
// O(1) per frame, not a scan of every peer (1,000 nodes on a segment: 1,000 frames/s).
bool Liveness::isolated(Clock::time_point now) const { return !peers_.empty() && now > heardUntil_; }

size_t Liveness::heardCount(Clock::time_point now) const {
  return static_cast<size_t>(
      std::count_if(peers_.begin(), peers_.end(), [&](const auto& p) { return heardWithin(p.second, now); }));
}

bool Liveness::othersHeardSince(const std::string& node, Clock::time_point deadline) const {
  // Another peer heard within its own interval of the deadline: we were hearing the segment
  // when `node` should have been heard. Peers that fell silent together (our own cable, a
  // stall) are not judged one by one as their windows run out.
  return std::any_of(peers_.begin(), peers_.end(), [&](const auto& p) {
    return p.first != node && p.second.lastHeard > deadline - p.second.interval;
  });
}

bool Liveness::othersHeardOnSince(const std::string& port, const std::string& node, Clock::time_point deadline) const {
  return std::any_of(peers_.begin(), peers_.end(), [&](const auto& p) {
    auto there = p.second.ports.find(port);
    return p.first != node && there != p.second.ports.end() && there->second.lastHeard > deadline - p.second.interval;
  });
}

bool Liveness::heard(const Heartbeat& heartbeat, const std::string& port, Clock::time_point now) {
  if (heartbeat.node == self_) return false;
  // Back from hearing nobody: what we missed meanwhile says nothing about the others yet.
  if (isolated(now)) judgingFrom_ = now;
  auto [it, fresh] = peers_.try_emplace(heartbeat.node);
  PeerState& peer = it->second;
  bool changed = fresh;
  if (!fresh && peer.incarnation != heartbeat.incarnation) {
    ++peer.restarts;
    peer.lastSequence = 0;
  } else if (!fresh && heartbeat.sequence > peer.lastSequence + 1) {
    peer.missed += heartbeat.sequence - peer.lastSequence - 1;
  }
  if (peer.deadSince) {
    peer.deadSince.reset();
    peer.backAt = now;
    // Back as a node: held down as one, not interface by interface.
    for (auto& [name, state] : peer.ports) state.silentSince.reset(), state.backAt.reset();
    changed = true;
  }
  // Back from hearing nobody on this port: its silences meanwhile were ours.
  auto& portHeardUntil = portHeardUntil_[port];
  if (now > portHeardUntil) portJudgingFrom_[port] = now;
  PortState& there = peer.ports[port];
  if (there.silentSince) {
    there.silentSince.reset();
    there.backAt = now;
    changed = true;
  }
  if (!there.senderPort.empty() && there.senderPort != heartbeat.port) changed = true;
  there.lastHeard = now;
  there.senderPort = heartbeat.port;
  std::vector<std::string> accuses = heartbeat.accused, holds = heartbeat.heldDown;
  std::sort(accuses.begin(), accuses.end());
  std::sort(holds.begin(), holds.end());
  if (accuses != peer.accuses || holds != peer.holds) changed = true;
  peer.accuses = std::move(accuses);
  peer.holds = std::move(holds);
  peer.incarnation = heartbeat.incarnation;
  peer.lastSequence = std::max(peer.lastSequence, heartbeat.sequence);
  peer.interval = std::chrono::milliseconds(heartbeat.intervalMs);
  peer.lastHeard = now;
  heardUntil_ = std::max(heardUntil_, now + window(peer));
  portHeardUntil = std::max(portHeardUntil, now + window(peer));
  peer.announced = heartbeat.announced;
  peer.announcedCount = heartbeat.announcedCount;
  ++peer.received;
  return changed;
}

bool Liveness::evaluate(Clock::time_point now) {
  bool changed = false;
  bool alone = isolated(now);
  std::erase_if(portJudgingFrom_, [&](const auto& p) { return now - p.second > options_.forgetAfter; });
  std::erase_if(portHeardUntil_, [&](const auto& p) { return now - p.second > options_.forgetAfter; });
  for (auto it = peers_.begin(); it != peers_.end();) {
    PeerState& peer = it->second;
    if (now - peer.lastHeard > options_.forgetAfter) {
      it = peers_.erase(it);
      changed = true;
      continue;
    }
    if (!peer.deadSince && !heardWithin(peer, now) && !alone && now - judgingFrom_ > window(peer) &&
        othersHeardSince(it->first, peer.lastHeard + window(peer))) {
      peer.deadSince = peer.lastHeard + window(peer);
      peer.backAt.reset();
      ++peer.deadTransitions;
      changed = true;
    }
    if (peer.backAt && now >= *peer.backAt + options_.holdDown) {
      peer.backAt.reset();
      changed = true;
    }
    changed = judgePorts(it->first, peer, now) || changed;
    ++it;
  }
  return changed;
}

// A peer heard as a node (on some port) but silent on one of ours for its window, while another
// peer is heard there after that deadline: its interface on that segment is silent.
bool Liveness::judgePorts(const std::string& node, PeerState& peer, Clock::time_point now) {
  bool changed = false;
  bool alive = !peer.deadSince && heardWithin(peer, now);
  for (auto it = peer.ports.begin(); it != peer.ports.end();) {
    PortState& port = it->second;
    if (now - port.lastHeard > options_.forgetAfter) {
      it = peer.ports.erase(it);
      changed = true;
      continue;
    }
    Clock::time_point deadline = port.lastHeard + window(peer);
    auto from = portJudgingFrom_.find(it->first);
    bool judging = now - judgingFrom_ > window(peer) &&
                   (from == portJudgingFrom_.end() || now - from->second > window(peer));
    if (alive && !port.silentSince && now > deadline && judging &&
        othersHeardOnSince(it->first, node, deadline)) {
      port.silentSince = deadline;
      port.backAt.reset();
      changed = true;
    }
    if (port.backAt && now >= *port.backAt + options_.holdDown) {
      port.backAt.reset();
      changed = true;
    }
    ++it;
  }
  return changed;
}

void Liveness::interfaceVerdicts(const std::string& node, const PeerState& peer, Clock::time_point now,
                                 std::vector<std::string>* silent, std::vector<std::string>* heldOut) const {
  if (peer.deadSince || held(peer, now)) return;  // judged as a node
  for (const auto& [name, port] : peer.ports) {
    if (port.senderPort.empty()) continue;
    if (port.silentSince && silent) silent->push_back(node + "/" + port.senderPort);
    if (port.backAt && now < *port.backAt + options_.holdDown && heldOut) heldOut->push_back(node + "/" + port.senderPort);
  }
}

std::vector<std::string> Liveness::accused(Clock::time_point now) const {
  std::vector<std::string> out;
  for (const auto& [node, peer] : peers_) {
    if (peer.deadSince) out.push_back(node);
  }
  for (const auto& [node, peer] : peers_) interfaceVerdicts(node, peer, now, &out, nullptr);
  return out;
}

std::vector<std::string> Liveness::heldDown(Clock::time_point now) const {
  std::vector<std::string> out;
  for (const auto& [node, peer] : peers_) {
    if (held(peer, now)) out.push_back(node);
  }
  for (const auto& [node, peer] : peers_) interfaceVerdicts(node, peer, now, nullptr, &out);
  return out;
}

// We do not take the word of a peer we hold dead or down: back from a silence, what it says of
// the others may be what it missed.
std::set<std::string> Liveness::excluded(Clock::time_point now) const {
  std::set<std::string> out;
  for (const auto& [node, peer] : peers_) {
    if (peer.deadSince) out.insert(node);
    if (believed(peer, now)) out.insert(peer.accuses.begin(), peer.accuses.end());
  }
  for (const std::string& entry : accused(now)) out.insert(entry);
  return out;
}

std::set<std::string> Liveness::lastResort(Clock::time_point now) const {
  std::set<std::string> out;
  for (const auto& [node, peer] : peers_) {
    if (held(peer, now)) out.insert(node);
    if (believed(peer, now)) out.insert(peer.holds.begin(), peer.holds.end());
  }
  for (const std::string& entry : heldDown(now)) out.insert(entry);
  return out;
}

}  // namespace l2a::wire

#include "wire/liveness.h"

#include <algorithm>

namespace l2a::wire {

Liveness::Liveness(std::string self, LivenessOptions options, Clock::time_point now)
    : self_(std::move(self)), options_(options), judgingFrom_(now) {}

bool Liveness::isolated(Clock::time_point now) const {
  if (peers_.empty()) return false;
  return std::none_of(peers_.begin(), peers_.end(), [&](const auto& p) { return heardWithin(p.second, now); });
}

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
    changed = true;
  }
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
  peer.announced = heartbeat.announced;
  peer.announcedCount = heartbeat.announcedCount;
  peer.ports.insert(port);
  ++peer.received;
  return changed;
}

bool Liveness::evaluate(Clock::time_point now) {
  bool changed = false;
  bool alone = isolated(now);
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
    ++it;
  }
  return changed;
}

std::vector<std::string> Liveness::accused(Clock::time_point /*now*/) const {
  std::vector<std::string> out;
  for (const auto& [node, peer] : peers_) {
    if (peer.deadSince) out.push_back(node);
  }
  return out;
}

std::vector<std::string> Liveness::heldDown(Clock::time_point now) const {
  std::vector<std::string> out;
  for (const auto& [node, peer] : peers_) {
    if (held(peer, now)) out.push_back(node);
  }
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
  return out;
}

std::set<std::string> Liveness::lastResort(Clock::time_point now) const {
  std::set<std::string> out;
  for (const auto& [node, peer] : peers_) {
    if (held(peer, now)) out.insert(node);
    if (believed(peer, now)) out.insert(peer.holds.begin(), peer.holds.end());
  }
  return out;
}

}  // namespace l2a::wire

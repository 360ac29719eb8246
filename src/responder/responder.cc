#include "responder/responder.h"

#include <algorithm>
#include <cmath>

#include "packet/arp.h"
#include "packet/ndp.h"

namespace l2a::responder {

using packet::DropReason;
using packet::IpAddress;
using packet::Ipv4Address;
using packet::Ipv6Address;
using packet::MacAddress;

namespace {

// The solicited-node group MAC an IPv6 claim needs on every port it is active on.
std::optional<packet::MacAddress> multicastGroupOf(const IpAddress& address) {
  if (const auto* v6 = std::get_if<Ipv6Address>(&address)) {
    return v6->solicitedNode().multicastMac();
  }
  return std::nullopt;
}

}  // namespace

Responder::Responder(FrameIo& io, AnnouncementConfig config, std::function<void()> wake)
    : io_(io), config_(config), wake_(std::move(wake)) {}

bool Responder::claim(const IpAddress& address, k8s::InterfaceSelector scope) {
  std::vector<std::pair<IpAddress, k8s::InterfaceSelector>> one;
  one.emplace_back(address, std::move(scope));
  return claim(std::move(one)) > 0;
}

size_t Responder::claim(std::vector<std::pair<IpAddress, k8s::InterfaceSelector>> claims) {
  size_t changed = 0;
  for (size_t from = 0; from < claims.size(); from += kClaimsPerLock) {
    std::lock_guard lock(mutex_);
    for (size_t i = from; i < std::min(claims.size(), from + kClaimsPerLock); ++i) {
      auto& [address, scope] = claims[i];
      auto it = claims_.find(address);
      if (it != claims_.end()) {
        if (it->second.scope.patterns() == scope.patterns()) continue;
        it->second.scope = std::move(scope);
      } else {
        it = claims_.emplace(address, Claim{.scope = std::move(scope)}).first;
      }
      activate(it->second);
      schedule(address, it->second, Clock::time_point::min());
      ++changed;
    }
  }
  if (changed > 0) {
    std::lock_guard lock(mutex_);
    portsStale_ = true;  // once: groups and filters are recomputed over every claim
  }
  if (changed > 0 && wake_) wake_();
  return changed;
}

bool Responder::release(const IpAddress& address) { return release(std::vector<IpAddress>{address}) > 0; }

size_t Responder::release(const std::vector<IpAddress>& addresses) {
  size_t released = 0;
  {
    std::lock_guard lock(mutex_);
    // Answers stop here; queued announcements are skipped since the claim is gone.
    for (const IpAddress& address : addresses) released += claims_.erase(address);
    if (released > 0) portsStale_ = true;
  }
  if (released > 0 && wake_) wake_();
  return released;
}

void Responder::setYielding(const IpAddress& address, bool yielding) {
  std::lock_guard lock(mutex_);
  if (auto it = claims_.find(address); it != claims_.end()) it->second.yielding = yielding;
}

void Responder::activate(Claim& claim) {
  claim.activeIfindexes.clear();
  for (const auto& [ifindex, state] : ports_) {
    if (claim.scope.matches(state.port.name)) claim.activeIfindexes.push_back(ifindex);
  }
  std::sort(claim.activeIfindexes.begin(), claim.activeIfindexes.end());
}

void Responder::syncPorts() {
  if (!portsStale_) return;
  portsStale_ = false;
  std::set<std::pair<int, packet::MacAddress>> wanted;
  std::unordered_map<int, std::vector<IpAddress>> claimed;
  for (const auto& entry : ports_) claimed[entry.first];
  for (const auto& [address, claim] : claims_) {
    auto group = multicastGroupOf(address);
    for (int ifindex : claim.activeIfindexes) {
      claimed[ifindex].push_back(address);
      if (group) wanted.emplace(ifindex, *group);
    }
  }
  for (const auto& entry : joined_) {
    if (!wanted.count(entry) && ports_.count(entry.first)) io_.leaveMulticast(entry.first, entry.second);
  }
  for (const auto& entry : wanted) {
    if (!joined_.count(entry)) io_.joinMulticast(entry.first, entry.second);
  }
  joined_ = std::move(wanted);
  for (const auto& [ifindex, addresses] : claimed) io_.filterClaims(ifindex, addresses);
}

void Responder::schedule(const IpAddress& address, Claim& claim, Clock::time_point at) {
  claim.generation = nextGeneration_++;
  claim.remainingBursts = std::max(config_.count, 0);
  if (claim.remainingBursts > 0 || config_.refresh.count() > 0) {
    schedule_.push({at, address, claim.generation});
  }
}

void Responder::setPorts(const std::vector<Port>& ports) {
  std::lock_guard lock(mutex_);
  // Take the new set of ports: claims are re-activated against it, and ports that are new or
  // changed get announcements.
  std::vector<int> added;
  for (const Port& port : ports) {
    auto old = ports_.find(port.ifindex);
    if (old == ports_.end() || !(old->second.port == port)) added.push_back(port.ifindex);
  }
  if (added.empty() && ports.size() == ports_.size()) return;

  ports_.clear();
  for (const Port& port : ports) {
    ports_.emplace(port.ifindex, PortState{port, &counters_[port.name]});
    removed_.erase(port.name);
  }
  for (const auto& entry : counters_) {
    const std::string& name = entry.first;
    bool present = std::any_of(ports.begin(), ports.end(), [&](const Port& p) { return p.name == name; });
    if (!present) removed_.try_emplace(name);
  }
  for (auto& entry : claims_) {
    Claim& claim = entry.second;
    activate(claim);
    bool gained = std::any_of(added.begin(), added.end(), [&claim](int i) {
      return std::binary_search(claim.activeIfindexes.begin(), claim.activeIfindexes.end(), i);
    });
    if (gained && confirmed_) schedule(entry.first, claim, Clock::time_point::min());
    if (gained && !confirmed_) probesDue_ = true;
  }
  // A port that went away took its memberships with its socket; new ports need theirs.
  std::erase_if(joined_, [this](const auto& entry) { return !ports_.count(entry.first); });
  portsStale_ = true;
  syncPorts();
}

const Responder::Claim* Responder::answerable(const IpAddress& address, int ifindex) const {
  auto it = claims_.find(address);
  if (it == claims_.end()) return nullptr;
  const auto& active = it->second.activeIfindexes;
  return std::binary_search(active.begin(), active.end(), ifindex) ? &it->second : nullptr;
}

bool Responder::ownMac(const packet::MacAddress& mac) const {
  // Several of our ports may share a LAN: what one announces the others see.
  for (const auto& [ifindex, state] : ports_) {
    if (state.port.mac == mac) return true;
  }
  return false;
}

void Responder::drop(PortState& port, DropReason reason) {
  ++port.counters->drops[static_cast<size_t>(reason)];
}

void Responder::send(PortState& port, const packet::Bytes& frame,
                     uint64_t PortCounters::*sent) {
  if (io_.send(port.port.ifindex, frame)) {
    ++(port.counters->*sent);
  } else {
    ++port.counters->sendErrors;
  }
}

void Responder::setReplyLimit(ReplyLimit limit) {
  std::lock_guard lock(mutex_);
  if (limit.perSecond > 0 && limit.burst <= 0) limit.burst = std::max(1.0, limit.perSecond / 10);
  replyLimit_ = limit;
}

bool Responder::replyAllowed(PortState& port) {
  if (replyLimit_.perSecond <= 0) return true;
  if (port.refilledAt == Clock::time_point{}) {
    port.tokens = replyLimit_.burst;
  } else {
    double elapsed = std::chrono::duration<double>(frameTime_ - port.refilledAt).count();
    port.tokens = std::min(replyLimit_.burst, port.tokens + std::max(0.0, elapsed) * replyLimit_.perSecond);
  }
  port.refilledAt = frameTime_;
  if (port.tokens < 1) return false;
  port.tokens -= 1;
  return true;
}

void Responder::handleFrame(int ifindex, packet::ByteSpan frame, Clock::time_point now) {
  std::vector<Conflict> conflicts;
  {
    std::lock_guard lock(mutex_);
    frameTime_ = now;
    handleFrameLocked(ifindex, frame, conflicts);
  }
  if (onConflict_) {
    for (const Conflict& c : conflicts) onConflict_(c.address, c.other, c.port);
  }
}

void Responder::reannounce(const IpAddress& address) {
  {
    std::lock_guard lock(mutex_);
    auto it = claims_.find(address);
    if (it == claims_.end()) return;
    schedule(address, it->second, Clock::time_point::min());
  }
  if (wake_) wake_();
}

void Responder::handleFrameLocked(int ifindex, packet::ByteSpan frame, std::vector<Conflict>& conflicts) {
  auto it = ports_.find(ifindex);
  if (it == ports_.end()) return;  // a frame still queued on a socket of a removed port
  PortState& port = it->second;
  auto eth = packet::parseEthernet(frame);
  if (!eth) {
    ++port.counters->arpRequests;  // unknown kind: counted as seen so drops add up
    return drop(port, eth.error());
  }
  if (eth->header.etherType == packet::kEtherTypeArp) {
    ++port.counters->arpRequests;
  } else if (eth->header.etherType == packet::kEtherTypeIpv6) {
    ++port.counters->neighborSolicitations;
  } else {
    ++port.counters->arpRequests;
    return drop(port, DropReason::kUnsupportedEtherType);
  }
  // The kernel delivers VLAN traffic to the VLAN's own interface, untagged. A tag here means
  // a VLAN the operator did not select: never answer it as if it were this port's LAN.
  if (eth->header.vlanTci) return drop(port, DropReason::kVlanTagged);
  if (eth->header.source == port.port.mac) return drop(port, DropReason::kOwnFrame);
  if (eth->header.etherType == packet::kEtherTypeArp) {
    handleArp(port, eth->header, eth->payload, conflicts);
  } else {
    handleIpv6(port, eth->header, eth->payload, conflicts);
  }
}

void Responder::handleArp(PortState& port, const packet::EthernetHeader& eth,
                          packet::ByteSpan payload, std::vector<Conflict>& conflicts) {
  auto arp = packet::parseArp(payload);
  if (!arp) return drop(port, arp.error());
  bool announcement = arp->operation == packet::kArpReply || arp->senderIp == arp->targetIp;
  if (announcement && !ownMac(arp->senderMac) && answerable(IpAddress{arp->senderIp}, port.port.ifindex)) {
    // Someone else says it owns an address we answer for.
    ++port.counters->conflicts;
    conflicts.push_back({IpAddress{arp->senderIp}, arp->senderMac, port.port.name});
    return drop(port, DropReason::kForeignAnnouncement);
  }
  if (arp->operation != packet::kArpRequest) return drop(port, DropReason::kArpNotRequest);
  if (arp->senderMac.isMulticast()) return drop(port, DropReason::kArpBadSender);
  if (arp->senderIp == arp->targetIp) return drop(port, DropReason::kArpGratuitous);
  if (!answerable(IpAddress{arp->targetIp}, port.port.ifindex)) {
    return drop(port, DropReason::kNotClaimed);
  }
  if (!replyAllowed(port)) return drop(port, DropReason::kRateLimited);
  send(port, packet::buildArpReply(port.port.mac, eth, *arp), &PortCounters::arpReplies);
  noteAnswered(IpAddress{arp->targetIp});
}

void Responder::handleIpv6(PortState& port, const packet::EthernetHeader& eth,
                           packet::ByteSpan payload, std::vector<Conflict>& conflicts) {
  auto ns = packet::parseNeighborSolicitation(payload);
  if (!ns && ns.error() == DropReason::kUnexpectedIcmpv6Type) {
    auto na = packet::parseNeighborAdvertisement(payload);
    if (!na) return drop(port, na.error());
    packet::MacAddress other = na->targetLinkLayer.value_or(eth.source);
    if (!ownMac(other) && answerable(IpAddress{na->target}, port.port.ifindex)) {
      // Contested: answered without Override until the owner decides (setYielding), so a
      // node taking the address over is not undone by our answers in the meantime. Only when
      // someone hears of it and decides (`l2a announce` has no conflict handler).
      if (onConflict_) claims_.find(IpAddress{na->target})->second.yielding = true;
      ++port.counters->conflicts;
      conflicts.push_back({IpAddress{na->target}, other, port.port.name});
      return drop(port, DropReason::kForeignAnnouncement);
    }
    return drop(port, DropReason::kUnexpectedIcmpv6Type);
  }
  if (!ns) return drop(port, ns.error());
  const Claim* claim = answerable(IpAddress{ns->target}, port.port.ifindex);
  if (!claim) return drop(port, DropReason::kNotClaimed);
  if (!replyAllowed(port)) return drop(port, DropReason::kRateLimited);
  send(port, packet::buildSolicitedAdvertisement(port.port.mac, eth, *ns, !claim->yielding),
       &PortCounters::neighborAdvertisements);
  noteAnswered(IpAddress{ns->target});
}

void Responder::announce(const IpAddress& address, const Claim& claim) {
  for (int ifindex : claim.activeIfindexes) {
    auto it = ports_.find(ifindex);
    if (it == ports_.end()) continue;
    PortState& port = it->second;
    if (const auto* v4 = std::get_if<Ipv4Address>(&address)) {
      send(port, packet::buildGratuitousArp(port.port.mac, *v4, packet::GratuitousArpForm::kRequest),
           &PortCounters::gratuitousArps);
    } else {
      send(port, packet::buildUnsolicitedAdvertisement(port.port.mac, std::get<Ipv6Address>(address)),
           &PortCounters::unsolicitedAdvertisements);
    }
  }
}

void Responder::probeClaims() {
  {
    std::lock_guard lock(mutex_);
    probesDue_ = true;
  }
  if (wake_) wake_();
}

void Responder::setConfirmed(bool confirmed) {
  {
    std::lock_guard lock(mutex_);
    if (confirmed_ == confirmed) return;
    confirmed_ = confirmed;
    nextProbeRound_ = Clock::time_point::min();
  }
  if (wake_) wake_();
}

void Responder::setProbeRate(double perSecond) {
  if (!(perSecond > 0)) return;
  double round = std::chrono::duration<double>(kUnconfirmedProbeInterval).count();
  auto count = static_cast<size_t>(std::clamp(std::floor(perSecond * round), 1.0, double(kMaxProbesPerTick)));
  auto interval = std::max<Clock::duration>(
      kUnconfirmedProbeInterval,
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(count) / perSecond)));
  std::lock_guard lock(mutex_);
  probesPerRound_ = count;
  probeInterval_ = interval;
}

void Responder::countDrop(int ifindex, packet::DropReason reason) {
  std::lock_guard lock(mutex_);
  auto it = ports_.find(ifindex);
  if (it != ports_.end()) drop(it->second, reason);
}

void Responder::probe(const IpAddress& address, const Claim& claim) {
  for (int ifindex : claim.activeIfindexes) {
    auto port = ports_.find(ifindex);
    if (port == ports_.end()) continue;
    const MacAddress& mac = port->second.port.mac;
    if (const auto* v4 = std::get_if<Ipv4Address>(&address)) {
      send(port->second, packet::buildArpRequest(mac, Ipv4Address{}, *v4), &PortCounters::probes);
    } else {
      send(port->second, packet::buildNeighborSolicitation(mac, Ipv6Address{}, std::get<Ipv6Address>(address)),
           &PortCounters::probes);
    }
  }
}

void Responder::noteAnswered(const IpAddress& address) {
  if (confirmed_ || frameTime_ - lastDemandProbe_ < kDemandProbeGap) return;
  lastDemandProbe_ = frameTime_;
  demandProbes_.push_back(address);
}

void Responder::sendProbes(size_t count) {
  if (claims_.empty()) return;
  // unordered_map order is stable between rehashes: a cursor into it takes turns well enough.
  count = std::min(count, claims_.size());
  size_t start = probeCursor_ % claims_.size();
  auto it = claims_.begin();
  std::advance(it, start);
  for (size_t i = 0; i < count; ++i, ++it) {
    if (it == claims_.end()) it = claims_.begin();
    probe(it->first, it->second);
  }
  probeCursor_ = start + count;
}

std::optional<Clock::time_point> Responder::tick(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  syncPorts();
  for (auto it = removed_.begin(); it != removed_.end();) {
    if (!it->second) it->second = now;
    if (now - *it->second >= kCountersKeptAfterRemoval) {
      counters_.erase(it->first);
      it = removed_.erase(it);
    } else {
      ++it;
    }
  }
  bool asked = std::exchange(probesDue_, false);  // probeClaims(), or a port back while unconfirmed
  bool round = !confirmed_ && !claims_.empty() && now >= nextProbeRound_;
  if (asked || round) {
    sendProbes(asked ? kMaxProbesPerTick : probesPerRound_);
    if (!confirmed_) nextProbeRound_ = now + probeInterval_;
  }
  for (const IpAddress& address : std::exchange(demandProbes_, {})) {
    auto it = claims_.find(address);
    if (it != claims_.end()) probe(address, it->second);
  }
  size_t announced = 0;
  bool paced = false;
  while (!schedule_.empty() && schedule_.top().at <= now) {
    if (announced == kAnnouncementsPerTick) {
      paced = true;  // the rest on the next tick
      break;
    }
    Due due = schedule_.top();
    schedule_.pop();
    auto it = claims_.find(due.address);
    if (it == claims_.end() || it->second.generation != due.generation) continue;
    Claim& claim = it->second;
    announce(due.address, claim);
    ++announced;
    if (claim.remainingBursts > 0) --claim.remainingBursts;
    if (claim.remainingBursts > 0) {
      schedule_.push({now + config_.interval, due.address, due.generation});
    } else if (config_.refresh.count() > 0) {
      schedule_.push({now + config_.refresh, due.address, due.generation});
    }
  }
  std::optional<Clock::time_point> next;
  if (!schedule_.empty()) next = paced ? now + kAnnouncementTick : schedule_.top().at;
  if (!confirmed_ && !claims_.empty()) next = next ? std::min(*next, nextProbeRound_) : nextProbeRound_;
  return next;
}

size_t Responder::claimCount() const {
  std::lock_guard lock(mutex_);
  return claims_.size();
}

std::vector<ClaimInfo> Responder::claims() const {
  std::lock_guard lock(mutex_);
  std::vector<ClaimInfo> out;
  for (const auto& [address, claim] : claims_) {
    ClaimInfo info{.address = address, .interfacePatterns = claim.scope.patterns()};
    for (int ifindex : claim.activeIfindexes) {
      auto it = ports_.find(ifindex);
      if (it != ports_.end()) info.activePorts.push_back(it->second.port.name);
    }
    out.push_back(std::move(info));
  }
  return out;
}

std::map<std::string, PortCounters> Responder::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::vector<Port> Responder::ports() const {
  std::lock_guard lock(mutex_);
  std::vector<Port> out;
  for (const auto& [ifindex, state] : ports_) out.push_back(state.port);
  return out;
}

}  // namespace l2a::responder

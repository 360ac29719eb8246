#include "agent/handover.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "agent/fencing.h"

namespace l2a::agent {

bool Handover::foreignSeenSince(const std::string& address, HandoverClock::time_point since) const {
  auto seen = foreignSeen_.find(address);
  return seen != foreignSeen_.end() && seen->second >= since;
}

std::optional<HandoverClock::time_point> Handover::nextGiveUp() const {
  std::optional<HandoverClock::time_point> out;
  for (const auto& [address, at] : handingOver_) out = out ? std::min(*out, at) : at;
  return out;
}

std::set<std::string> Handover::handingOverAddresses() const {
  std::set<std::string> out;
  for (const auto& [address, giveUp] : handingOver_) out.insert(address);
  return out;
}

std::map<std::string, std::vector<std::string>> Handover::releaseAll() {
  handingOver_.clear();
  reannounced_.clear();
  return std::exchange(claimed_, {});
}

HandoverActions Handover::step(const HandoverInput& in) {
  HandoverActions out;
  ClaimChanges changes = planClaims(in.desired, claimed_, in.frozen);
  auto ownerOf = [&](const std::string& address) {
    auto it = in.owners.find(address);
    return it == in.owners.end() ? std::string() : it->second;
  };
  // Make before break: an address moving to another node keeps being answered here until that
  // node is seen announcing it, so the move leaves no moment with nobody answering.
  std::set<std::string> moving;
  for (const std::string& address : changes.release) {
    std::string owner = ownerOf(address);
    if (owner.empty() || owner == self_) continue;
    auto [it, inserted] = handingOver_.try_emplace(address, in.now + kHandoverTimeout);
    if (inserted) {
      out.logs.emplace_back(false, fmt::format("event=handing_over address={} node={} to={}", address, self_, owner));
    }
    auto seen = foreignSeen_.find(address);
    bool announcedThere = (seen != foreignSeen_.end() && in.now - seen->second < kHandoverTimeout) ||
                          (in.heardAnnouncing && in.heardAnnouncing(owner, address));
    if (announcedThere) {
      out.logs.emplace_back(false, fmt::format("event=handed_over address={} node={} note=\"announced there{}\"",
                                               address, self_, inserted ? " already" : ""));
    }
    if (in.now < it->second && !announcedThere) moving.insert(address);
  }
  std::erase_if(foreignSeen_, [&](const auto& entry) { return in.now - entry.second >= kHandoverTimeout; });
  std::erase_if(handingOver_, [&](const auto& entry) {
    return std::find(changes.release.begin(), changes.release.end(), entry.first) == changes.release.end();
  });
  // Someone else announced an address we announce: the plan decides, even when frozen.
  for (const auto& [address, other] : in.conflicts) {
    if (!claimed_.count(address)) continue;
    std::string owner = ownerOf(address);
    if (owner == self_) {
      auto last = reannounced_.find(address);
      if (last == reannounced_.end() || in.now - last->second > kReannounceGap) {
        out.reannounce.push_back(address);
        reannounced_[address] = in.now;
      }
      ++out.conflictsWon;
      out.logs.emplace_back(true, fmt::format("event=conflict address={} other=\"{}\" node={} action=reannounce "
                                              "reason=rightful_owner", address, other, self_));
    } else if (moving.erase(address)) {
      out.logs.emplace_back(false, fmt::format("event=handed_over address={} node={} other=\"{}\"", address, self_, other));
    } else if (std::find(changes.release.begin(), changes.release.end(), address) == changes.release.end()) {
      changes.release.push_back(address);
      changes.claim.erase(address);
      ++out.conflictsLost;
      out.logs.emplace_back(true, fmt::format("event=conflict address={} other=\"{}\" node={} action=release owner={}",
                                              address, other, self_, owner.empty() ? "-" : owner));
    }
  }
  std::erase_if(changes.release, [&](const std::string& address) { return moving.count(address) > 0; });
  for (const std::string& address : changes.release) {
    handingOver_.erase(address);
    claimed_.erase(address);
    reannounced_.erase(address);
  }
  for (const auto& [address, patterns] : changes.claim) {
    if (!claimed_.count(address)) out.started.push_back(address);
    claimed_[address] = patterns;
  }
  out.release = std::move(changes.release);
  out.claim = std::move(changes.claim);
  return out;
}

}  // namespace l2a::agent

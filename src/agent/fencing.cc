#include "agent/fencing.h"

namespace l2a::agent {

bool isFrozen(bool holdsLease, std::chrono::steady_clock::time_point lastRenew,
              std::chrono::steady_clock::time_point now, std::chrono::milliseconds renewDeadline) {
  return !holdsLease || now - lastRenew > renewDeadline;
}

ClaimChanges planClaims(const std::map<std::string, std::vector<std::string>>& desired,
                        const std::map<std::string, std::vector<std::string>>& claimed, bool frozen) {
  ClaimChanges changes;
  if (frozen) return changes;
  for (const auto& [address, patterns] : claimed) {
    if (!desired.count(address)) changes.release.push_back(address);
  }
  for (const auto& [address, patterns] : desired) {
    auto current = claimed.find(address);
    if (current == claimed.end() || current->second != patterns) changes.claim[address] = patterns;
  }
  return changes;
}

}  // namespace l2a::agent

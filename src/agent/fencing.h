// Fencing: what the agent may change when it cannot prove it is alive. A node whose own Lease
// is not renewed within the renew deadline is frozen: it takes over nothing new (another node
// may rightly hold it by now) and gives up nothing it announces (so an API-server outage never
// blanks every Service). Pure functions, tested with fake time.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace l2a::agent {

bool isFrozen(bool holdsLease, std::chrono::steady_clock::time_point lastRenew,
              std::chrono::steady_clock::time_point now, std::chrono::milliseconds renewDeadline);

struct ClaimChanges {
  std::vector<std::string> release;
  std::map<std::string, std::vector<std::string>> claim;  // address -> interface patterns
};

// `desired`: address -> interface patterns this node should announce now; `claimed`: address ->
// patterns it announces. Frozen: no new claims, no releases, no re-scoping.
ClaimChanges planClaims(const std::map<std::string, std::vector<std::string>>& desired,
                        const std::map<std::string, std::vector<std::string>>& claimed, bool frozen);

}  // namespace l2a::agent

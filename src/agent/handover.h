// Handover: the agent's claim state machine. From what this node should announce (the plan's
// share for it), the plan's owner of every address, the conflicts the responder saw (another
// MAC announcing an address we announce), what the peers' heartbeats list and the time, it
// decides what to claim, what to release and what to announce again:
//   - frozen, nothing new is taken and nothing is given up (fencing.h);
//   - make before break: an address moving to another live node is still answered here until
//     that node is seen announcing it (its announcement, or its heartbeat listing it) or
//     kHandoverTimeout passes;
//   - a conflict on an address we rightly own is answered by announcing again, at most once per
//     kReannounceGap; on one we do not own, we yield at once.
// Pure: time comes in as an argument; not thread-safe (the agent holds its lock around it).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace l2a::agent {

using HandoverClock = std::chrono::steady_clock;

// How long an address moving to another live node is still answered here, waiting for that
// node's announcement, before it is released regardless.
inline constexpr std::chrono::milliseconds kHandoverTimeout{1500};
inline constexpr std::chrono::milliseconds kReannounceGap{1000};

struct HandoverInput {
  std::map<std::string, std::vector<std::string>> desired;  // address -> interface patterns, ours now
  std::map<std::string, std::string> owners;                 // address -> the plan's owner ("" none)
  std::map<std::string, std::string> conflicts;              // address -> who else ("MAC on port")
  // Whether NODE's heartbeat lists ADDRESS as announced (null: no heartbeats).
  std::function<bool(const std::string& node, const std::string& address)> heardAnnouncing;
  bool frozen = false;
  HandoverClock::time_point now;
};

struct HandoverActions {
  std::vector<std::string> release;
  std::map<std::string, std::vector<std::string>> claim;  // new, or with another scope
  std::vector<std::string> started;                       // of `claim`, the ones not announced before
  std::vector<std::string> reannounce;
  std::vector<std::pair<bool, std::string>> logs;         // (warning, key=value line)
  uint64_t conflictsWon = 0;   // announced again: we are the rightful owner
  uint64_t conflictsLost = 0;  // released: another node is
};

class Handover {
 public:
  explicit Handover(std::string self) : self_(std::move(self)) {}

  HandoverActions step(const HandoverInput& in);
  // Another MAC announced ADDRESS at WHEN (the conflicts the responder reports, also for
  // addresses we are handing over).
  void foreignSeen(const std::string& address, HandoverClock::time_point when) { foreignSeen_[address] = when; }
  bool foreignSeenSince(const std::string& address, HandoverClock::time_point since) const;
  const std::map<std::string, std::vector<std::string>>& claimed() const { return claimed_; }
  bool handingOver() const { return !handingOver_.empty(); }
  // The addresses being handed over: still claimed, answered until the new owner is heard.
  std::set<std::string> handingOverAddresses() const;
  // When the first pending hand-over gives up waiting.
  std::optional<HandoverClock::time_point> nextGiveUp() const;
  // Everything released at once (shutdown).
  std::map<std::string, std::vector<std::string>> releaseAll();

 private:
  std::string self_;
  std::map<std::string, std::vector<std::string>> claimed_;    // address -> interface patterns
  std::map<std::string, HandoverClock::time_point> handingOver_;  // address -> give up at
  std::map<std::string, HandoverClock::time_point> foreignSeen_;  // address -> last foreign announcement
  std::map<std::string, HandoverClock::time_point> reannounced_;  // address -> when
};

}  // namespace l2a::agent

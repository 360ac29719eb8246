// Liveness: what the heartbeats one node hears say about its peers. A peer heard before and
// silent for more than `misses` of its own intervals is wire-dead: it takes no address. One heard
// again after that is held down for `holdDown`: a last resort only (an address goes to it only
// when no other node can take it), so a node that blips does not pull addresses back and forth,
// and a rolling restart that holds several nodes down never leaves an address with nobody.
// Every node lists the peers it holds dead and those it holds down in its own heartbeats, and
// what any heard node says (unless we hold that node down or dead) counts for everyone — the
// observers converge on one verdict even when they hear differently (a one-way cut, a port that
// flaps), and the accused node learns it and lets its addresses go.
// A node that hears no peer at all judges nobody (it may be the one cut off), and after such a
// silence, or at start, it waits a whole window before it judges anyone; and it judges a
// silent peer only while it hears another one, after the silent one's deadline (peers that fell
// silent together, as when our own cable goes, are not judged one by one).
// Per interface: a peer still heard on one of our ports but silent on another for its window,
// while another peer is heard there, has lost that segment: its interface there (its own name
// for it, from its frames) is silent — listed as "node/interface" in our frames like an
// accusation, so every observer plans alike, and held down after it comes back like a node.
// A peer silent everywhere is judged as a node, not interface by interface.
// Pure: time comes in as arguments. Not thread-safe; Heartbeats locks it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "packet/ip_address.h"
#include "wire/heartbeat.h"

namespace l2a::wire {

using Clock = std::chrono::steady_clock;

struct LivenessOptions {
  int misses = 5;                                  // intervals of silence before wire-dead
  std::chrono::milliseconds holdDown{10000};       // after coming back, before addresses return
  std::chrono::milliseconds forgetAfter{600000};   // a peer silent this long is forgotten
};

// How we hear a peer on one of our ports.
struct PortState {
  Clock::time_point lastHeard{};
  std::string senderPort;                        // the peer's own name for its interface there
  std::optional<Clock::time_point> silentSince;  // judged silent here while heard elsewhere
  std::optional<Clock::time_point> backAt;       // heard here again after that
};

struct PeerState {
  uint64_t incarnation = 0;
  uint64_t lastSequence = 0;
  std::chrono::milliseconds interval{0};
  Clock::time_point lastHeard{};
  std::optional<Clock::time_point> deadSince;  // judged wire-dead (by us)
  std::optional<Clock::time_point> backAt;     // heard again after that: held down until + holdDown
  std::vector<std::string> accuses;            // what its last heartbeat listed as dead
  std::vector<std::string> holds;              // ...and as held down
  std::vector<packet::IpAddress> announced;
  uint32_t announcedCount = 0;
  std::map<std::string, PortState> ports;      // our port -> how we hear it there
  // Counters (metrics).
  uint64_t received = 0;
  uint64_t missed = 0;          // sequence numbers never heard
  uint64_t deadTransitions = 0;
  uint64_t restarts = 0;        // a new incarnation
};

class Liveness {
 public:
  Liveness(std::string self, LivenessOptions options, Clock::time_point now);

  // A heartbeat from another node on `port`. True when it changes a verdict (a new peer, one
  // back from silence, a restart, a change of what it accuses).
  bool heard(const Heartbeat& heartbeat, const std::string& port, Clock::time_point now);
  // Judges silences and ends hold-downs as of `now`. True when a verdict changed.
  bool evaluate(Clock::time_point now);
  // Peers we hold wire-dead now, and those we hold down: what our heartbeats say (with
  // "node/interface" for an interface of a peer heard elsewhere).
  std::vector<std::string> accused(Clock::time_point now) const;
  std::vector<std::string> heldDown(Clock::time_point now) const;
  // Every node that must not take addresses now (wire-dead by us or by a peer we hear — us
  // included, when a peer says so), and every node held down (a last resort), likewise; with
  // "node/interface" entries for single interfaces (silent, or held down after a silence).
  std::set<std::string> excluded(Clock::time_point now) const;
  std::set<std::string> lastResort(Clock::time_point now) const;
  // No peer heard within its window (we may be the one cut off). False with no peers known.
  bool isolated(Clock::time_point now) const;
  // Forgets a peer (its node Lease was deleted).
  void forget(const std::string& node) { peers_.erase(node); }
  const std::map<std::string, PeerState>& peers() const { return peers_; }
  size_t heardCount(Clock::time_point now) const;

 private:
  bool othersHeardSince(const std::string& node, Clock::time_point deadline) const;
  bool othersHeardOnSince(const std::string& port, const std::string& node, Clock::time_point deadline) const;
  bool judgePorts(const std::string& node, PeerState& peer, Clock::time_point now);
  // The peer's silent and held interfaces, as "node/interface".
  void interfaceVerdicts(const std::string& node, const PeerState& peer, Clock::time_point now,
                         std::vector<std::string>* silent, std::vector<std::string>* heldOut) const;
  std::chrono::milliseconds window(const PeerState& peer) const { return options_.misses * peer.interval; }
  bool heardWithin(const PeerState& peer, Clock::time_point now) const { return now - peer.lastHeard <= window(peer); }
  bool held(const PeerState& peer, Clock::time_point now) const {
    return !peer.deadSince && peer.backAt && now < *peer.backAt + options_.holdDown;
  }
  // A peer whose word counts: heard now, and neither dead nor held down by us.
  bool believed(const PeerState& peer, Clock::time_point now) const {
    return heardWithin(peer, now) && !peer.deadSince && !held(peer, now);
  }

  std::string self_;
  LivenessOptions options_;
  std::map<std::string, PeerState> peers_;
  // Judging starts a window after this: the start, or the end of our last isolation.
  Clock::time_point judgingFrom_;
  // ...and on one of our ports, after we heard nobody there (that port's own cut).
  std::map<std::string, Clock::time_point> portJudgingFrom_;
  // When the last window a frame opened ends, for any peer and per port of ours: we hear
  // somebody (there) until then.
  Clock::time_point heardUntil_;
  std::map<std::string, Clock::time_point> portHeardUntil_;
};

}  // namespace l2a::wire

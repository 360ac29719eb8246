// Responder: the claimed-address table and the ARP/NDP answering logic. It answers requests for
// claimed addresses on the ports it is given, sends gratuitous ARP / unsolicited NA on claim, and
// counts everything per port. Pure: frames in through handleFrame(), out through FrameIo, time
// in through tick(now).
// Threads: claim(), release() and the snapshot getters are safe from any thread; handleFrame(),
// tick() and setPorts() are called from the one loop thread that owns the FrameIo.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/pi_mutex.h"
#include "k8s/interface_selector.h"
#include "packet/bytes.h"
#include "packet/ethernet.h"
#include "packet/ip_address.h"
#include "responder/frame_io.h"
#include "responder/port.h"
#include "responder/port_counters.h"

namespace l2a::responder {

using Clock = std::chrono::steady_clock;

struct AnnouncementConfig {
  int count = 3;                                     // bursts per claim, the first at once
  std::chrono::milliseconds interval{500};           // between the bursts
  std::chrono::milliseconds refresh{0};              // then every `refresh`; 0 = never
};

// At most `perSecond` answers per interface, `burst` at once (a token bucket); beyond it a
// flood of requests costs reads but no sends. 0 = no limit.
struct ReplyLimit {
  double perSecond = 0;
  double burst = 0;  // 0: a tenth of a second's worth, at least one
};

struct ClaimInfo {
  packet::IpAddress address;
  std::vector<std::string> interfacePatterns;  // empty: every port
  std::vector<std::string> activePorts;        // ports it is answered on now
};

class Responder {
 public:
  // `wake` is called (from any thread) when tick() has work sooner than it last said.
  Responder(FrameIo& io, AnnouncementConfig config, std::function<void()> wake = {});

  // Starts answering for `address` on the ports `scope` selects, and schedules its
  // announcements. Claiming again with the same scope changes nothing; with another scope it
  // moves and re-announces. Returns true when something changed.
  bool claim(const packet::IpAddress& address, k8s::InterfaceSelector scope = {});
  // The same for many addresses with one wake of the loop: a take-over of thousands is one step
  // for the packet thread, not one per address. The lock is taken kClaimsPerLock addresses at a
  // time, so the packet thread is never held up by a whole take-over (the caller may be a
  // low-priority thread the scheduler leaves waiting). Returns how many changed.
  size_t claim(std::vector<std::pair<packet::IpAddress, k8s::InterfaceSelector>> claims);
  static constexpr size_t kClaimsPerLock = 128;
  // Stops answering for `address` at once. Returns false when it was not claimed.
  bool release(const packet::IpAddress& address);
  // The same for many addresses at once; returns how many were claimed.
  size_t release(const std::vector<packet::IpAddress>& addresses);
  // While `address` is handed over (make before break: answered here until the new owner is
  // heard), its Neighbor Advertisements leave the Override flag clear, so a client that already
  // took the new owner's MAC keeps it (RFC 4861 §7.2.5) and a handshake is never split between
  // two nodes (an ACK sent to the other one is answered with a reset). ARP needs nothing of the
  // kind: clients ignore a reply that contradicts a gratuitous ARP within their locktime (1 s).
  // No effect on an address not claimed; a release ends it. Any thread. With a ConflictHandler
  // set, a claim another MAC announces (a conflict, reported to it) yields from that moment
  // until the owner says otherwise: a move planned on both nodes at once is not undone by an
  // answer the old node gives before its own plan has run.
  void setYielding(const packet::IpAddress& address, bool yielding);

  // Loop thread: the interfaces to answer on (selected, up). New ports get announcements.
  void setPorts(const std::vector<Port>& ports);
  // Before the loop runs: the per-interface answer limit.
  void setReplyLimit(ReplyLimit limit);
  // Loop thread: one received frame from port `ifindex`, received at `now`. Answers or counts
  // a drop.
  void handleFrame(int ifindex, packet::ByteSpan frame, Clock::time_point now = Clock::now());
  // Loop thread: sends the announcements due by `now`; returns when the next one is due.
  std::optional<Clock::time_point> tick(Clock::time_point now);

  // Another MAC announced (gratuitous ARP, ARP reply, NA) an address we claim. Called on the
  // loop thread, without the responder's lock held. Set before the loop runs.
  using ConflictHandler =
      std::function<void(const packet::IpAddress&, const packet::MacAddress& other, const std::string& port)>;
  void setConflictHandler(ConflictHandler handler) { onConflict_ = std::move(handler); }
  // Sends the announcement burst for a claimed address again (after a conflict we win).
  void reannounce(const packet::IpAddress& address);
  // Asks the LAN, on the next tick, whether anyone else answers for our claims: an RFC 5227
  // ARP probe (sender 0.0.0.0) / a DAD-style NS per claimed address and port, at most
  // kMaxProbesPerTick addresses per tick, in turn. Answers from other MACs come back as
  // conflicts. For an owner that cannot confirm it still owns its addresses. Any thread.
  void probeClaims();
  static constexpr size_t kMaxProbesPerTick = 64;
  // Announcements are paced: at most kAnnouncementsPerTick addresses announced (on each of
  // their ports) per kAnnouncementTick, the rest when the next tick is due — 25,000 addresses
  // a second, so a node taking 10,000 addresses at once sends their first gratuitous ARPs /
  // unsolicited NAs over 0.4 s instead of in one burst. Answering a request is never paced:
  // a claim answers from the loop's next turn (the one its wake-up brings), when the ports'
  // filters (FrameIo::filterClaims) let its requests in, before its first announcement.
  static constexpr size_t kAnnouncementsPerTick = 250;
  static constexpr std::chrono::milliseconds kAnnouncementTick{10};
  // Whether the owner can vouch for its claims now (for the agent: its Lease is current).
  // Unconfirmed, the responder probes its claims every kUnconfirmedProbeInterval, so another
  // node that took them over is noticed within one interval of the LAN reaching it, and a
  // port that comes (back) up gets probes instead of announcements: announcing would pull
  // clients back from a node that may rightly have taken over. Any thread.
  void setConfirmed(bool confirmed);
  static constexpr std::chrono::milliseconds kUnconfirmedProbeInterval{100};
  // Unconfirmed probes a second at most (the rounds above, of fewer addresses, or further
  // apart below 10 a second). When the API server is down for everyone, every node of a
  // segment is unconfirmed and probes at once, each probe a broadcast every node receives: the
  // agent gives each node its share of kSegmentProbeBudget. Any thread.
  void setProbeRate(double perSecond);
  static constexpr double kSegmentProbeBudget = 1000;
  // Unconfirmed, a request we answer also probes its address at once (at most one such probe
  // per kDemandProbeGap): a node back on the LAN learns at its first request whether another
  // node took the address meanwhile, not at the next round.
  static constexpr std::chrono::milliseconds kDemandProbeGap{10};
  // Loop thread: a frame from `ifindex` was discarded unread by the caller for `reason`.
  void countDrop(int ifindex, packet::DropReason reason);

  std::vector<ClaimInfo> claims() const;
  size_t claimCount() const;
  // By port name. A port that went away keeps its counters for kCountersKeptAfterRemoval (an
  // interface that flaps keeps counting), then they go — veths come and go by the thousand.
  std::map<std::string, PortCounters> counters() const;
  static constexpr std::chrono::minutes kCountersKeptAfterRemoval{2};
  std::vector<Port> ports() const;

 private:
  struct Claim {
    k8s::InterfaceSelector scope;
    std::vector<int> activeIfindexes;
    int remainingBursts = 0;
    uint64_t generation = 0;
    bool yielding = false;  // handed over: NAs without Override
  };
  struct Due {
    Clock::time_point at;
    packet::IpAddress address;
    uint64_t generation;
    bool operator>(const Due& other) const { return at > other.at; }
  };
  struct PortState {
    Port port;
    PortCounters* counters;
    double tokens = 0;  // answers the reply limit still allows now
    Clock::time_point refilledAt{};
  };

  void activate(Claim& claim);
  // Loop thread: the ports' multicast groups and claim filters (FrameIo) for the claims now.
  void syncPorts();
  void schedule(const packet::IpAddress& address, Claim& claim, Clock::time_point at);
  void announce(const packet::IpAddress& address, const Claim& claim);
  void sendProbes(size_t count);
  void probe(const packet::IpAddress& address, const Claim& claim);
  void noteAnswered(const packet::IpAddress& address);
  void send(PortState& port, const packet::Bytes& frame, uint64_t PortCounters::*sent);
  struct Conflict {
    packet::IpAddress address;
    packet::MacAddress other;
    std::string port;
  };
  void handleArp(PortState& port, const packet::EthernetHeader& eth, packet::ByteSpan payload,
                 std::vector<Conflict>& conflicts);
  void handleIpv6(PortState& port, const packet::EthernetHeader& eth, packet::ByteSpan payload,
                  std::vector<Conflict>& conflicts);
  void handleFrameLocked(int ifindex, packet::ByteSpan frame, std::vector<Conflict>& conflicts);
  const Claim* answerable(const packet::IpAddress& address, int ifindex) const;
  bool ownMac(const packet::MacAddress& mac) const;
  void drop(PortState& port, packet::DropReason reason);
  bool replyAllowed(PortState& port);

  FrameIo& io_;
  const AnnouncementConfig config_;
  std::function<void()> wake_;
  ConflictHandler onConflict_;
  ReplyLimit replyLimit_;
  Clock::time_point frameTime_{};  // of the frame being handled

  mutable common::PiMutex mutex_;  // shared with the packet thread: priority inheritance
  std::unordered_map<packet::IpAddress, Claim> claims_;
  std::unordered_map<int, PortState> ports_;
  std::map<std::string, PortCounters> counters_;
  // Ports removed, and since when (stamped at the first tick after the removal).
  std::map<std::string, std::optional<Clock::time_point>> removed_;
  // Solicited-node groups joined per port. Changed only on the loop thread (FrameIo's rule);
  // claim()/release() on other threads just mark them (and the claim filters) stale.
  std::set<std::pair<int, packet::MacAddress>> joined_;
  bool portsStale_ = false;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> schedule_;
  uint64_t nextGeneration_ = 1;
  bool probesDue_ = false;
  bool confirmed_ = true;
  Clock::time_point nextProbeRound_{};  // while unconfirmed
  size_t probesPerRound_ = kMaxProbesPerTick;
  Clock::duration probeInterval_ = kUnconfirmedProbeInterval;
  Clock::time_point lastDemandProbe_{};
  std::vector<packet::IpAddress> demandProbes_;  // sent at the next tick
  size_t probeCursor_ = 0;  // where the next round of probes starts in claims_ order
};

}  // namespace l2a::responder

// Agent: the node agent's control loop. Informers on Services, EndpointSlices, Nodes, node
// Leases and L2 policies feed a snapshot; the same plan every agent computes
// (policy::planAddresses) says which addresses this node owns; the loop drives the responder
// to claim exactly those — on every change and every `resyncPeriod`, so a missed event can
// never leave an address unannounced. Its own node Lease (renewed by a LeaderElector the caller
// drives) is its liveness; when it cannot renew it, the agent freezes: takes nothing new, keeps
// what it announces. It publishes its interfaces (carrier, MAC) as a Lease annotation.
// Threads: the caller runs informers(), the elector (LeaseDriver) and run() on threads of its
// own; shutdown() after run() returned; status() from any thread. The responder's packet thread
// only ever takes the inbox lock (held for a push, never while anything is called; it inherits
// priority, common/pi_mutex.h), so no reconcile, log line or API call can hold it up.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/announcement_status.h"
#include "agent/cluster_view.h"
#include "agent/handover.h"
#include "agent/service_index.h"
#include "common/flat_map.h"
#include "common/pi_mutex.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/leader_elector.h"
#include "k8s/interface_selector.h"
#include "net/link_info.h"
#include "policy/assignment.h"
#include "responder/responder.h"
#include "wire/heartbeats.h"

namespace l2a::agent {

using Steady = std::chrono::steady_clock;

inline constexpr const char* kInterfacesAnnotation = "l2announcer.io/interfaces";
inline constexpr const char* kWeightAnnotation = "l2announcer.io/weight";
inline constexpr const char* kNodeLeasePrefix = "l2a-node-";

struct AgentOptions {
  std::string nodeName;
  std::string ns = "l2announcer";
  k8s::InterfaceSelector interfaces;  // the interfaces this agent may use
  std::chrono::milliseconds leaseDuration{4000};
  std::chrono::milliseconds renewDeadline{3000};
  std::chrono::milliseconds retryPeriod{1000};
  // Node Lease renewals a second the whole cluster makes at most (0: no bound). Every agent
  // watches every node Lease, so N nodes renewing each retry period are N² watch events; past
  // this many nodes a second the three periods above grow with the nodes (their Leases counted).
  double leaseRenewals = 0;
  std::chrono::milliseconds resyncPeriod{1000};
  k8s::LoadBalancerClasses classes;  // which Services this agent announces
  NodeAvoidance avoid;               // which nodes announce nothing beside drained ones
  // Addresses stay with their current owner while it remains a candidate (policy/assignment.h).
  // With `rebalance`, this node takes back what rendezvous hashing gives it from a holder that
  // kept it, at most `rebalanceRate` addresses a second.
  bool rebalance = false;
  double rebalanceRate = 10;
  // The node Lease's own client (null: `leaseClient`), and how its requests learn their budget
  // (LeaderElectionConfig::requestBudget): that client's transport serves nothing else.
  kube::Client* nodeLeaseClient = nullptr;
  std::function<void(std::chrono::milliseconds)> nodeLeaseRequestBudget;
};

struct PolicyKind {
  kube::Resource resource;
  std::string group;
  bool optional = false;  // may not be served: followed once its CRD is installed
};

struct AgentStatus {
  bool frozen = false;
  std::vector<std::string> announced;  // addresses claimed now
  // Of the plan's addresses for this node, those rendezvous hashing gives another node: kept by
  // stickiness (a node came back or joined), what --rebalance would move.
  size_t kept = 0;
  uint64_t takeovers = 0;
  uint64_t rebalanced = 0;  // taken back from a holder that kept them (rebalance)
  // Take-overs by what made the previous owner lose the address: "wire" (excluded or held down
  // by heartbeats), "lease" (its Lease expired or went), "carrier" (its interfaces went down, as
  // its Lease publishes them), "drain" (drained, cordoned or excluded from load balancers),
  // "plan" (anything else: a new Service, a policy, a node back).
  std::map<std::string, uint64_t> takeoversByCause;
  uint64_t givenBackSoon = 0;  // addresses released within 1 s of taking them (false alarms)
  // Of the take-overs, those claimed on their owner's silence as the last plan's successors,
  // before planning again (the plan confirmed them).
  uint64_t claimedAhead = 0;
  bool wireOnly = false;  // frozen, deciding by the wire among the last Lease-live nodes
  uint64_t releases = 0;
  uint64_t reconciles = 0;
  uint64_t plansSkipped = 0;  // reconciles that found nothing changed since the last plan
  uint64_t plansFull = 0;     // computed plans that planned every address (a start, a policy changed)
  uint64_t addressesPlanned = 0;  // addresses planned, in full plans and in those of what changed
  double planSeconds = 0;     // the computed plans' time, snapshot to the responder told
  // The last pass that took addresses over: how many, and the time from the change that woke it
  // (a peer fell silent, a Lease expired, a conflict) to the responder answering for all of them.
  size_t lastTakeoverAddresses = 0;
  double lastTakeoverSeconds = 0;
  uint64_t conflictsLost = 0;  // released because another node rightly announced
  uint64_t conflictsWon = 0;   // re-announced because we are the rightful owner
  size_t malformedObjects = 0; // objects (or fields) read but malformed, left out or taken in part
  kube::EventRecorder::Stats events;  // Service Events: created, aggregated, dropped
};

class Agent {
 public:
  // `links` reads this node's links (netlink in production, a fake in tests).
  // `leaseClient` renews the node Lease and makes the agent's writes (interfaces annotation,
  // policy status, Events): no retries, short timeouts, so the reconcile loop never waits on an
  // unreachable API server (see agent_command.cc). `client` feeds the informers.
  Agent(kube::Client& client, kube::Client& leaseClient, responder::Responder& responder, AgentOptions options,
        std::vector<PolicyKind> policyKinds, std::function<std::vector<net::LinkInfo>()> links);
  ~Agent();

  std::vector<kube::Informer*> informers();
  kube::LeaderElector& nodeLease() { return *lease_; }
  // Before run(): node liveness heard on the wire (null: Leases alone). A node the wire
  // excludes takes no address even while its Lease is live; the Lease stays the membership
  // authority (an expired Lease is dead whatever the wire says). Call wireChanged() from
  // Heartbeats' `changed`.
  void setWire(wire::Heartbeats* heartbeats) { wire_ = heartbeats; }
  // Before run(): where the announcement records and Service conditions go (null: nowhere);
  // its holders() are the shared record of who holds what. Call recordsChanged() from its
  // `changed`.
  void setRecords(AnnouncementStatus* records) { records_ = records; }
  void recordsChanged() { wake(); }
  // On the thread that ticks the Heartbeats (the packet thread): a peer just found silent
  // loses the addresses the last plan names us the successor of, claimed here and now — the
  // reconcile thread may be planning, or waiting for a CPU — then a pass confirms them.
  void wireChanged();
  // A link changed (called from the responder's loop thread): reconcile soon.
  void linksChanged();
  // Another MAC announced an address we announce (responder's loop thread): check our view at
  // once; release when another node is the rightful owner, else announce again.
  void conflictSeen(const packet::IpAddress& address, const packet::MacAddress& other, const std::string& port);
  // Runs until `stop`; call linksChanged() (or any wake) after setting it to return at once.
  void run(const std::atomic<bool>& stop);
  // Graceful: stop answering for everything, then give the node Lease up.
  void shutdown();
  AgentStatus status() const;

 private:
  // `wireOnly`: frozen (the API server out of reach) but hearing peers: liveness is the wire's
  // among the nodes that were Lease-live when we were last live.
  static void silenceInterfaces(policy::NodeInfo& node, const wire::WireView& wire);
  // Leases are judged at `now`, the pass's start: a Lease the pass's first step found live is
  // live in its plan too.
  // CHANGED: the Services changed since the last snapshot (nullopt: not known).
  policy::ClusterView snapshot(const wire::WireView& wire, bool wireOnly, Steady::time_point now,
                               std::optional<std::set<std::string>>& changed);
  // Caller holds mutex_. Whether NODE's Lease, as its last event left it, is live now; keeps
  // nextExpiry_.
  bool nodeLeaseLive(const std::string& node, Steady::time_point now);
  // A fingerprint of everything a plan depends on besides the objects' contents.
  std::string planInputs(const std::map<std::string, std::pair<bool, std::string>>& mine, bool frozen,
                         const wire::WireView& wire, Steady::time_point now);
  // Our own Lease's renewals reach us through the watch: our view is current.
  bool viewFresh();
  // We take nothing new: our Lease is not renewed within its deadline (fencing.h) or our view
  // is not current.
  bool frozenNow();
  // What grows with a cluster of NODES (their Leases counted): the node Lease's periods
  // (AgentOptions::leaseRenewals); each node's share of the probes an unconfirmed segment sends
  // (Responder::setProbeRate).
  void sizeToCluster(size_t nodes);
  // Our node Lease's owner: our Node (by uid), once the cache has it; the garbage collector
  // removes the Lease with the Node.
  nlohmann::json leaseOwners() const;
  void reconcile();
  // A peer the wire has just found silent, or whose Lease has expired since the last plan: what
  // that plan gives us after it (its successions) is claimed at once; the plan that follows
  // confirms it or lets it go.
  void claimSuccessions(const wire::WireView& wire, Steady::time_point now);
  // The owners of successions that are gone since the last plan: newly silent on the wire (when
  // it can tell), or Lease-live at the last plan and not at `now`.
  std::vector<std::string> ownersGone(const wire::WireView& wire, Steady::time_point now);
  // Packet thread: claims the successions of the peers newly silent in `wire`, when a pass
  // allowed it (claimsAheadUntil_), and leaves them in the inbox for the next pass.
  void claimOnSilence(const wire::WireView& wire, Steady::time_point detected);
  // Reconcile thread: what the packet thread claimed since the last pass, as claimed ahead.
  void takeClaimedOnSilence();
  // Reconcile thread: until when the packet thread may claim (our Lease renewed and our view
  // fresh as of now, nothing frozen), and the successions it claims from.
  void allowClaimsAhead();
  void keepSuccessions(const std::map<std::string, policy::AddressPlan>& plans);
  void logWireVerdicts(const wire::WireView& wireView);
  // Frozen, we may still decide by the wire: heartbeats on, peers heard, and we were live.
  bool wireOnlyPossible(const wire::WireView& wire);
  static bool heardAnnouncing(const wire::WireView& wire, const std::string& node, const std::string& address);
  // Caller holds mutex_. Why `address` came to us (AgentStatus::takeoversByCause).
  std::string takeoverCause(const policy::ClusterView& view, const wire::WireView& wire,
                            const std::string& address) const;
  void publishInterfaces(const std::map<std::string, std::pair<bool, std::string>>& mine);
  void writePolicyStatuses(const policy::ClusterView& view);
  // Who holds each address now: the records (`recorded`, address -> nodes), the peers'
  // heartbeats, our own claims and the peers seen announcing what we announce (conflicts).
  std::map<std::string, std::set<std::string>> holders(const wire::WireView& wire,
                                                       const std::map<std::string, std::set<std::string>>& recorded);
  // Addresses rendezvous hashing gives us that a holder kept: taken back with `rebalance`, at
  // most options_.rebalanceRate a second. Caller holds mutex_.
  std::vector<std::string> rebalancePulls(const std::map<std::string, policy::AddressPlan>& plans, Steady::time_point now);
  // Our records and the Service conditions we are the writer of, handed to records_.
  void writeRecords(const policy::ClusterView& view, const std::map<std::string, policy::AddressPlan>& plans,
                    const std::map<std::string, std::pair<bool, std::string>>& mine);
  static constexpr size_t kServiceEventsPerPass = 20;
  void emitEvents(const std::vector<std::tuple<std::string, std::string, std::string>>& events, size_t started,
                  size_t stopped, const std::map<std::string, uint64_t>& causes);
  void event(const std::string& serviceKey, const std::string& type, const std::string& reason,
             const std::string& message);
  void wake();
  // Caller holds inbox_.
  void markDirty();
  // Logs each malformed object once, as it appears; keeps the current ones for status().
  void reportProblems(const std::vector<std::string>& problems);
  // Conflicts the packet thread reported since the last call (inbox_ taken only to swap).
  std::vector<std::pair<std::string, std::string>> takeInbox();

  kube::Client& client_;
  kube::Client& writer_;
  responder::Responder& responder_;
  const AgentOptions options_;
  std::vector<PolicyKind> policyKinds_;
  std::function<std::vector<net::LinkInfo>()> links_;
  // What plans read of Services and EndpointSlices, kept per event (the informers feed it).
  ServiceIndex index_{options_.classes};
  std::unique_ptr<kube::Informer> services_, slices_, nodes_, leases_;
  std::vector<std::unique_ptr<kube::Informer>> policies_;
  std::unique_ptr<kube::Informer> metallbPools_;
  std::unique_ptr<kube::LeaderElector> lease_;
  wire::Heartbeats* wire_ = nullptr;
  AnnouncementStatus* records_ = nullptr;
  // Events about Services (announcing started/stopped): aggregated per Service, rate-limited,
  // sent by a thread of the recorder's own so a reconcile never waits on the API server.
  std::unique_ptr<kube::EventRecorder> events_;

  // The inbox: what the packet thread (and the informers' and elector's threads) tell the loop.
  common::PiMutex inbox_;  // the packet thread pushes here: priority inheritance
  std::condition_variable_any changed_;  // with inbox_
  bool dirty_ = true;
  Steady::time_point dirtySince_ = Steady::now();  // when dirty_ was last set
  std::vector<std::pair<std::string, std::string>> reported_;  // address, "MAC on port"
  std::vector<std::pair<std::string, Steady::time_point>> reportedAt_;
  // The last plan's addresses we own next if their owner goes, by owner, with their interface
  // selectors compiled once per set of patterns. Replaced whole by each plan (reconcile thread);
  // the packet thread claims from the one it was handed (successionsShared_).
  struct Successions {
    std::vector<std::vector<std::string>> patterns;
    std::vector<std::optional<k8s::InterfaceSelector>> selectors;  // by set, as patterns
    std::map<std::string, std::vector<std::pair<std::string, uint32_t>>> byOwner;
  };
  // The owners of SUCCESSIONS the wire has found silent since BEFORE (nodes it excluded then).
  // None while we hear nobody or the wire excludes us: the pass decides, with the Leases.
  std::vector<std::string> newlySilentOwners(const wire::WireView& wire, const std::set<std::string>& before,
                                             const Successions& successions) const;
  std::atomic<size_t> clusterNodes_{0};  // as sizeToCluster was last told
  std::shared_ptr<const Successions> successionsShared_ = std::make_shared<const Successions>();
  Steady::time_point claimsAheadUntil_{};  // the packet thread claims on a silence before it
  // Claimed by the packet thread on a silence, not yet taken by a pass: address -> patterns;
  // when the first silence was found and when its claims were made.
  std::vector<std::pair<std::string, std::vector<std::string>>> claimedOnSilence_;
  Steady::time_point silenceFoundAt_{}, silenceClaimedAt_{};
  std::set<std::string> silentSeen_;  // nodes the wire excluded at the last wireChanged (packet thread only)
  // The loop's state, shared with the informers' handlers and status() readers; never held
  // while the responder, the logger or the API is called.
  mutable std::mutex mutex_;
  // A node Lease as its events left it: what liveness is judged by (client-go's rule: the record
  // changing by our clock, within its own duration) and what wakes a reconcile.
  struct NodeLeaseSeen {
    std::string record;   // the spec as text: any change is a renewal
    std::string meaning;  // holder + published interfaces: what changes a plan
    std::string holder;   // holderIdentity when it is a string
    std::chrono::seconds duration{0};  // its leaseDurationSeconds, bounded
    Steady::time_point changed{};      // when the record last changed, by our clock
  };
  std::map<std::string, NodeLeaseSeen> nodeLeases_;  // by Lease name
  // Every Service, EndpointSlice, Node or policy event and every change of a Lease's meaning;
  // with the live set, our links and our frozen state it says whether a plan can have changed.
  std::atomic<uint64_t> objectEvents_{0};
  std::string lastPlanInputs_;
  bool trimPending_ = false;  // a plan was computed: trim the heap once quiet (reconcile thread only)
  static constexpr std::chrono::seconds kBusyTrimPeriod{10};
  static constexpr size_t kCompactAfter = 1000;  // Services' infos made since the last compaction
  Steady::time_point lastTrim_{};  // reconcile thread only
  Steady::time_point passWokenAt_ = Steady::now();  // what woke this pass happened then (reconcile thread only)
  std::set<std::string> wireExcluded_;  // as last logged (reconcile thread only)
  std::shared_ptr<const Successions> successions_ = successionsShared_;  // reconcile thread only
  // Claimed by successions (here or on the packet thread), for the plan to confirm: address ->
  // interface patterns (reconcile thread only).
  std::map<std::string, std::vector<std::string>> claimedAhead_;
  Steady::time_point claimedAheadAt_{};
  std::set<std::string> yielding_;  // handed over, told to the responder (reconcile thread only)
  Steady::time_point nextExpiry_ = Steady::time_point::max();  // earliest live lease expiry
  Handover handover_{options_.nodeName};  // what we announce, hand-overs, conflicts (handover.h)
  std::string publishedInterfaces_;  // what we last wrote
  Steady::time_point publishedAt_{};
  std::map<std::string, std::string> policyStatusWritten_;
  std::map<std::string, std::string> conflicts_;  // address -> the other MAC, until reconciled
  // Our claims taken over (by a plan or ahead of one): since when by our clock (a release
  // within a second is a false alarm) and by the wall clock (the record's `since`), and why.
  struct ClaimNote {
    Steady::time_point at;
    std::chrono::system_clock::time_point since;
    std::string cause;
  };
  std::map<std::string, ClaimNote> claimNotes_;  // by address
  common::FlatMap<std::string, StoredCondition> withCondition_;  // Services carrying our Announced condition
  Steady::time_point rebalanceWindow_{};  // the second rebalancing pulls are counted in
  double rebalancedInWindow_ = 0;
  bool rebalancePending_ = false;  // more to take back than the rate allowed
  // Address -> owner in the last plan (shared with records_).
  std::shared_ptr<const AnnouncementStatus::PlannedOwners> lastOwner_ = std::make_shared<const AnnouncementStatus::PlannedOwners>();
  std::set<std::string> lastLeaseLive_;  // nodes Lease-live when we last were (us included)
  std::vector<std::string> leaseDeadHeard_;  // Lease expired, still heard: what we accuse
  AgentStatus status_;
  // The plans are made on a thread of their own (onPlanner): their temporaries (a full plan's:
  // maps of 10,000 addresses) live in its malloc arena and nowhere else, so what the reconcile
  // thread keeps is not left between their holes (docs/benchmarks.md: 3 MiB at 10,000
  // Services). The reconcile thread waits for TASK: what it alone touches, the planner touches
  // only meanwhile (the handoff's mutex orders the two). An exception is rethrown to the caller.
  void onPlanner(const std::function<void()>& task);
  std::mutex plannerMutex_;
  std::condition_variable plannerWake_;
  const std::function<void()>* plannerTask_ = nullptr;
  std::exception_ptr plannerFailure_;
  bool plannerStop_ = false;
  std::thread planner_;
  // The plans, kept from one pass to the next and planned again only where their inputs changed:
  // planned on the planner thread; read, and a full plan's copied (Planner::compact), by the
  // reconcile thread while the planner waits for a task.
  policy::Planner plans_;
  std::set<std::string> problems_;  // malformed objects as of the last plan
  std::atomic<bool> shuttingDown_{false};
  std::atomic<bool> lostLease_{false};
};

Result<std::vector<PolicyKind>> discoverPolicyKinds(kube::Client& client);

}  // namespace l2a::agent

// Assignment: from a snapshot of the cluster (Services, policies, nodes with liveness,
// interface state and weights, local endpoints) to a plan per announced address — which
// policies and interfaces apply, which nodes are candidates and why others are not, and the
// owner rendezvous hashing picks. Every agent computes the same plan from the same snapshot;
// `l2a explain` shows it. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "k8s/label_selector.h"
#include "k8s/load_balancer_class.h"
#include "k8s/object_meta.h"
#include "policy/l2_policy.h"
#include "policy/rendezvous.h"

namespace l2a::policy {

struct NodeInfo {
  std::string name;
  k8s::Labels labels;
  double weight = 1.0;
  bool live = false;
  // Why the node is kept out of every plan although selected and live ("" when it is not):
  // drained (l2a drain), labelled node.kubernetes.io/exclude-from-external-load-balancers, or
  // cordoned. Its addresses move make before break, as on any change of plan.
  std::string avoided;
  // Interface name -> carrier, as the node's agent publishes it; nullopt when unknown.
  std::optional<std::map<std::string, bool>> interfaces;
  std::string problem;  // what was malformed in its Node or Lease ("" when nothing)
  bool operator==(const NodeInfo&) const = default;
};

struct ServiceInfo {
  std::string key;  // namespace/name
  k8s::Uid uid;
  // metadata.labels. The pseudo-labels io.kubernetes.service.name and .namespace are not stored
  // (label() answers them from the key): a map with them was half of what an agent held per
  // Service.
  k8s::PackedLabels labels;
  bool handled = false;  // type LoadBalancer, class none / l2announcer.io/l2 / io.cilium/l2-announcer
  bool local = false;    // externalTrafficPolicy: Local
  std::vector<std::string> loadBalancerIPs;

  // What most Services have none of, kept apart (96 bytes less for each of 10,000 Services):
  // external IPs, the nodes of ready endpoints (kept for externalTrafficPolicy: Local only: no
  // plan reads them otherwise) and a problem — a malformed field: the Service is not handled,
  // and this says why. Set through the setters; empty when never set.
  struct Rare {
    std::vector<std::string> externalIPs;
    std::set<std::string> readyEndpointNodes;
    std::string problem;
    bool operator==(const Rare&) const = default;
  };
  std::shared_ptr<const Rare> rare;  // null when all three are empty; shared by copies

  const std::vector<std::string>& externalIPs() const { return rareOrEmpty().externalIPs; }
  const std::set<std::string>& readyEndpointNodes() const { return rareOrEmpty().readyEndpointNodes; }
  const std::string& problem() const { return rareOrEmpty().problem; }
  void setExternalIPs(std::vector<std::string> ips);
  void setReadyEndpointNodes(std::set<std::string> nodes);
  void setProblem(std::string problem);

  bool operator==(const ServiceInfo& o) const;
  // A label's value, the pseudo-labels included.
  std::optional<std::string_view> label(const std::string& name) const;
  bool selectedBy(const k8s::LabelSelector& selector) const;

 private:
  const Rare& rareOrEmpty() const;
  template <class Change>
  void changeRare(Change change);
};

struct ClusterView {
  // Shared, not copied: the agent's index hands the same 10,000 to every plan.
  std::vector<std::shared_ptr<const ServiceInfo>> services;
  // The services are in key order (the agent's index gives them so): Planner finds one by its
  // key without sorting them first (checking the order alone reads all 50,000: milliseconds).
  bool servicesInKeyOrder = false;
  std::vector<L2Policy> policies;
  std::vector<NodeInfo> nodes;
  // Objects read but malformed, "kind namespace/name: reason" (a slice, a Lease annotation...):
  // each is left out or taken in part, never an exception.
  std::vector<std::string> problems;
  // Who announces each address now: the records, the peers' heartbeats and this node's own
  // claims. An address stays with a holder that is still a candidate (live, selected, not
  // avoided, not held down) when a better-ranked node comes back, so a node that blips does not
  // pull its addresses back; among several such holders (a hand-over in flight, a conflict)
  // the recorded one, else the best-ranked, keeps it, so every agent picks the same owner.
  std::map<std::string, std::set<std::string>> holders;
  // Address -> the node its announcement record names (the last to take it over): among
  // several holders it is the one that keeps it — a node thawing from a partition, still
  // announcing what another took over meanwhile, does not pull it back.
  std::map<std::string, std::string> recorded;
  // Rebalancing: a holder that is rendezvous hashing's choice keeps the address (it took it
  // back), whatever the record says.
  bool rebalance = false;
};

struct Exclusion {
  std::string node;
  std::string reason;
};

// Which nodes may announce, and why the others may not: shared by every address with the same
// policies (a plan of 50,000 addresses on 1,000 nodes holds one list per policy set, not per
// address).
struct NodeVerdicts {
  std::vector<std::string> candidates;
  std::vector<Candidate> weighted;  // the candidates with their weights, for rendezvous hashing
  std::vector<Exclusion> excluded;
  static const std::shared_ptr<const NodeVerdicts>& none() {
    static const std::shared_ptr<const NodeVerdicts> empty = std::make_shared<NodeVerdicts>();
    return empty;
  }
};

// The policies that announce an address and the union of their interface patterns: shared by
// every address announced alike (10,000 addresses under one policy hold one).
struct Announcers {
  std::vector<std::string> policies;
  std::vector<std::string> interfacePatterns;  // union; empty with allInterfaces
  bool allInterfaces = false;
  auto operator<=>(const Announcers&) const = default;
  static const std::shared_ptr<const Announcers>& none() {
    static const std::shared_ptr<const Announcers> empty = std::make_shared<Announcers>();
    return empty;
  }
};

// One address's plan (keyed by the address in the plans' map). The agent keeps 10,000 of them
// from one pass to the next (Planner): the nodes it names are positions in its candidates, and
// what it shares with other addresses is shared — 16 bytes for four names, 16 for its policies.
struct AddressPlan {
  static constexpr uint32_t kNobody = UINT32_MAX;
  std::vector<std::string> services;
  std::shared_ptr<const Announcers> announcers = Announcers::none();
  std::shared_ptr<const NodeVerdicts> nodes = NodeVerdicts::none();
  // Positions in nodes->weighted: the owner (kNobody: no candidate); rendezvous hashing's choice
  // (differs from the owner while a holder keeps it) and second choice (a node that comes back,
  // or whose weight changes, changes this plan only if it outranks it: Planner); the successor,
  // who owns it if the owner goes (dies, falls silent) and nothing else changes — what a node
  // claims at once on its owner's silence, before planning again.
  uint32_t ownerAt = kNobody, preferredAt = kNobody, runnerUpAt = kNobody, successorAt = kNobody;
  // A hash of its holders and its record as planned, for Planner to tell that they changed.
  uint64_t stickiness = 0;

  const std::string& owner() const { return nameAt(ownerAt); }  // "" when no candidate
  const std::string& preferred() const { return nameAt(preferredAt); }
  const std::string& runnerUp() const { return nameAt(runnerUpAt); }
  const std::string& successor() const { return nameAt(successorAt); }  // "" when nobody could
  const std::vector<std::string>& policies() const { return announcers->policies; }
  const std::vector<std::string>& interfacePatterns() const { return announcers->interfacePatterns; }
  bool allInterfaces() const { return announcers->allInterfaces; }
  const std::vector<std::string>& candidates() const { return nodes->candidates; }
  const std::vector<Exclusion>& excluded() const { return nodes->excluded; }
  // A plan whose only candidate, OWNER, owns it ("": none), for tools and tests.
  static AddressPlan ownedBy(const std::string& owner);

 private:
  const std::string& nameAt(uint32_t at) const;
};

std::map<std::string, AddressPlan> planAddresses(const ClusterView& view);
using PlannedAddress = std::map<std::string, AddressPlan>::value_type;  // the address and its plan

// Plans kept from one call to the next, each call planning again only the addresses whose
// inputs changed: those of the Services the caller says changed (before and after); on a node's
// change (liveness, labels, interfaces, weight, avoided), those it owns, is preferred, second or
// successor for, or holds, and those it now outranks the second choice of (one score per
// address, not one per address and node); those whose holders or record changed. Policies or
// rebalancing changed, or no list of changed Services: everything again. The plans are
// planAddresses' for the same view (unit tests compare them after random changes).
class Planner {
 public:
  // CHANGED: the keys of the Services added, changed or removed since the last call; null when
  // not known (every Service planned again).
  const std::map<std::string, AddressPlan>& plan(const ClusterView& view, const std::set<std::string>* changed);
  const std::map<std::string, AddressPlan>& plans() const { return plans_; }
  // The next call plans everything (the changes it would be told of may be lost).
  void forget() { valid_ = false; }
  // The plans copied afresh by the calling thread, every copy made before any old one is freed:
  // a full plan's are made among its temporaries, and kept there they would pin that thread's
  // heap (docs/benchmarks.md); copied on another thread, that heap can be given back whole.
  void compact();
  // What the last call did: addresses planned (all of them when full).
  size_t lastPlanned() const { return lastPlanned_; }
  bool lastFull() const { return lastFull_; }

 private:
  using PolicySet = std::vector<uint32_t>;  // indices in the view's policies, in the order met
  void planAll(const ClusterView& view);
  // Into DIRTY (planned again from their Services) the addresses of the CHANGED Services as
  // planned; into OWNERS (their owners chosen again) those whose holders or record differ from
  // what their plan was made with.
  void markChangedInputs(const ClusterView& view, const std::set<std::string>& changed, std::set<std::string>& dirty,
                         std::vector<PlannedAddress*>& owners);
  // Nodes changed: every policy set judged again; into OWNERS the addresses the change can move,
  // into DIRTY those judged for their own Services' endpoints (Local).
  void markNodesChanged(const ClusterView& view, std::set<std::string>& dirty, std::vector<PlannedAddress*>& owners);

  bool valid_ = false;  // false until a plan completes (an exception midway plans all next time)
  std::map<std::string, AddressPlan> plans_;
  std::vector<L2Policy> policies_;
  std::vector<NodeInfo> nodes_;
  bool rebalance_ = false;
  std::map<PolicySet, std::shared_ptr<const NodeVerdicts>> verdicts_;
  std::map<Announcers, std::shared_ptr<const Announcers>> announcers_;
  size_t lastPlanned_ = 0;
  bool lastFull_ = false;
};

// Parses a Service object into what planning needs (labels, class, addresses, policy).
ServiceInfo serviceInfoFrom(const nlohmann::json& service, const k8s::LoadBalancerClasses& classes = {});

}  // namespace l2a::policy

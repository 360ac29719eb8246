#include "policy/assignment.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "policy/rendezvous.h"

namespace l2a::policy {
namespace {

void addUnique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

namespace {

ServiceInfo serviceInfoFields(const nlohmann::json& service, const k8s::LoadBalancerClasses& classes) {
  ServiceInfo s;
  const auto& meta = service.value("metadata", nlohmann::json::object());
  const auto& spec = service.value("spec", nlohmann::json::object());
  std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
  s.key = ns + "/" + name;
  if (meta.contains("uid") && meta["uid"].is_string()) s.uid = k8s::Uid(meta["uid"].get_ref<const std::string&>());
  s.labels = k8s::PackedLabels(k8s::labelsOf(service));
  std::string cls = spec.contains("loadBalancerClass") && spec["loadBalancerClass"].is_string()
                        ? spec["loadBalancerClass"].get<std::string>() : "";
  s.handled = spec.value("type", "") == "LoadBalancer" && classes.serves(cls);
  const auto& ingress = service.value("status", nlohmann::json::object())
                            .value("loadBalancer", nlohmann::json::object())
                            .value("ingress", nlohmann::json::array());
  for (const auto& i : ingress) {
    if (i.contains("ip") && i["ip"].is_string()) s.loadBalancerIPs.push_back(i["ip"]);
  }
  std::vector<std::string> external;
  for (const auto& ip : spec.value("externalIPs", nlohmann::json::array())) {
    if (ip.is_string()) external.push_back(ip);
  }
  s.setExternalIPs(std::move(external));
  s.local = spec.value("externalTrafficPolicy", std::string("Cluster")) == "Local";
  return s;
}

}  // namespace

const ServiceInfo::Rare& ServiceInfo::rareOrEmpty() const {
  static const Rare kNone;
  return rare ? *rare : kNone;
}

// Copy on write: copies of a ServiceInfo share what they had; one that changes takes its own.
template <class Change>
void ServiceInfo::changeRare(Change change) {
  auto changed = std::make_shared<Rare>(rareOrEmpty());
  change(*changed);
  if (*changed == Rare{}) {
    rare.reset();
  } else {
    rare = std::move(changed);
  }
}

void ServiceInfo::setExternalIPs(std::vector<std::string> ips) {
  changeRare([&](Rare& r) { r.externalIPs = std::move(ips); });
}

void ServiceInfo::setReadyEndpointNodes(std::set<std::string> nodes) {
  changeRare([&](Rare& r) { r.readyEndpointNodes = std::move(nodes); });
}

void ServiceInfo::setProblem(std::string problem) {
  changeRare([&](Rare& r) { r.problem = std::move(problem); });
}

bool ServiceInfo::operator==(const ServiceInfo& o) const {
  return key == o.key && uid == o.uid && labels == o.labels && handled == o.handled && local == o.local &&
         loadBalancerIPs == o.loadBalancerIPs && rareOrEmpty() == o.rareOrEmpty();
}

std::optional<std::string_view> ServiceInfo::label(const std::string& name) const {
  std::string_view k = key;
  auto slash = k.find('/');
  if (name == "io.kubernetes.service.namespace") return k.substr(0, slash);
  if (name == "io.kubernetes.service.name") return slash == std::string_view::npos ? k : k.substr(slash + 1);
  return labels.find(name);
}

bool ServiceInfo::selectedBy(const k8s::LabelSelector& selector) const {
  return selector.matchesLabel([this](const std::string& name) { return label(name); });
}

// A field of the wrong type makes the Service one this node does not announce, with the reason,
// never an exception.
ServiceInfo serviceInfoFrom(const nlohmann::json& service, const k8s::LoadBalancerClasses& classes) {
  try {
    return serviceInfoFields(service, classes);
  } catch (const nlohmann::json::exception& e) {
    auto metadata = [&](const char* field) -> std::string {
      auto m = service.find("metadata");
      if (m == service.end() || !m->is_object()) return "";
      auto f = m->find(field);
      return f != m->end() && f->is_string() ? f->get<std::string>() : "";
    };
    ServiceInfo s;
    s.key = metadata("namespace") + "/" + metadata("name");
    s.setProblem(std::string("malformed object: ") + e.what());
    return s;
  }
}

namespace {

using PolicySet = std::vector<uint32_t>;
using VerdictCache = std::map<PolicySet, std::shared_ptr<const NodeVerdicts>>;
using AnnouncerCache = std::map<Announcers, std::shared_ptr<const Announcers>>;

// What an address's plan came from: the policies (by index in the view) and the Services, and
// what the policies make of it.
struct Sources {
  PolicySet policies;
  std::vector<const ServiceInfo*> services;
  Announcers announcers;
};

// The addresses POLICY announces of SERVICE: its load-balancer addresses the policy admits, its
// external IPs, when the policy selects it.
template <class Visit>
void forEachAddress(const ServiceInfo& service, const L2Policy& policy, const Visit& visit) {
  if (!service.handled || !policy.valid() || !service.selectedBy(policy.serviceSelector)) return;
  if (policy.loadBalancerIPs) {
    for (const std::string& a : service.loadBalancerIPs) {
      if (policy.admits(a)) visit(a);
    }
  }
  if (policy.externalIPs) {
    for (const std::string& a : service.externalIPs()) visit(a);
  }
}

// SERVICE under the policy at INDEX announces PLAN's address.
void addSource(const ClusterView& view, AddressPlan& plan, Sources& sources, const ServiceInfo& service, uint32_t index) {
  const L2Policy& policy = view.policies[index];
  addUnique(plan.services, service.key);
  Announcers& announcers = sources.announcers;
  addUnique(announcers.policies, policy.name);
  if (policy.interfaces.empty()) announcers.allInterfaces = true;
  for (const auto& i : policy.interfaces) addUnique(announcers.interfacePatterns, i);
  if (std::find(sources.policies.begin(), sources.policies.end(), index) == sources.policies.end()) {
    sources.policies.push_back(index);
  }
  if (std::find(sources.services.begin(), sources.services.end(), &service) == sources.services.end()) {
    sources.services.push_back(&service);
  }
}

// The nodes that may announce an address of these policies (with the Services' local endpoints
// when `localServices` is given), and why each other node may not.
std::shared_ptr<const NodeVerdicts> judgeNodes(const ClusterView& view, const PolicySet& policies,
                                               const std::vector<const ServiceInfo*>* localServices) {
  auto out = std::make_shared<NodeVerdicts>();
  for (const NodeInfo& node : view.nodes) {
    bool selected = false, interfaceUp = false;
    for (uint32_t index : policies) {
      const L2Policy& p = view.policies[index];
      if (!p.nodeSelector.matches(node.labels)) continue;
      selected = true;
      if (!node.interfaces) {
        interfaceUp = true;
      } else {
        for (const auto& [name, up] : *node.interfaces) {
          if (up && p.interfaceSelector.matches(name)) interfaceUp = true;
        }
      }
    }
    std::string reason;
    if (!selected) {
      reason = "no policy's nodeSelector selects it";
    } else if (!node.live) {
      reason = "its agent's lease is not live";
    } else if (!node.avoided.empty()) {
      reason = node.avoided;
    } else if (!interfaceUp) {
      reason = "no selected interface is up";
    } else if (localServices && std::none_of(localServices->begin(), localServices->end(), [&](const ServiceInfo* s) {
                 return s->local && s->readyEndpointNodes().count(node.name);
               })) {
      reason = "no ready local endpoint (externalTrafficPolicy: Local)";
    }
    if (reason.empty()) {
      out->candidates.push_back(node.name);
      out->weighted.push_back({node.name, node.weight});
    } else {
      out->excluded.push_back({node.name, reason});
    }
  }
  return out;
}

uint64_t mixIn(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return (h ^ 0xff) * 0x100000001b3ULL;  // a separator: {"ab"} and {"a", "b"} differ
}

// A hash of an address's holders and record (0 for neither).
uint64_t stickinessOf(const std::set<std::string>* holders, const std::string* recorded) {
  if (!holders && !recorded) return 0;
  uint64_t h = 0xcbf29ce484222325ULL;
  if (holders) {
    for (const std::string& node : *holders) h = mixIn(h, node);
  }
  h = mixIn(h, "|");
  if (recorded) h = mixIn(mixIn(h, "recorded"), *recorded);
  return h == 0 ? 1 : h;
}

template <class Map>
const typename Map::mapped_type* findIn(const Map& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

void chooseOwners(const ClusterView& view, const std::string& address, AddressPlan& plan);

// Who may announce ADDRESS, and who owns it: its plan finished from its sources (what it
// shares with other addresses from and into the caches).
void decide(const ClusterView& view, const std::string& address, AddressPlan& plan, Sources& sources,
            VerdictCache& verdictCache, AnnouncerCache& announcerCache) {
  if (sources.announcers.allInterfaces) sources.announcers.interfacePatterns.clear();
  auto& announcers = announcerCache[sources.announcers];
  if (!announcers) announcers = std::make_shared<const Announcers>(sources.announcers);
  plan.announcers = announcers;
  const auto& services = sources.services;
  bool anyLocal = std::any_of(services.begin(), services.end(), [](const ServiceInfo* s) { return s->local; });
  // Which nodes may announce depends on the address's policies (and, for Services with
  // externalTrafficPolicy: Local, on their endpoints): judged once per distinct set of policies
  // and shared by every address with that set — O(policy sets × nodes), not O(addresses × nodes).
  if (anyLocal) {
    plan.nodes = judgeNodes(view, sources.policies, &services);
  } else {
    auto& verdicts = verdictCache[sources.policies];
    if (!verdicts) verdicts = judgeNodes(view, sources.policies, nullptr);
    plan.nodes = verdicts;
  }
  chooseOwners(view, address, plan);
}

// Who owns ADDRESS among its plan's candidates, with its holders and record now.
void chooseOwners(const ClusterView& view, const std::string& address, AddressPlan& plan) {
  const std::vector<Candidate>& weighted = plan.nodes->weighted;
  auto at = [](size_t i) { return i == kNoCandidate ? AddressPlan::kNobody : static_cast<uint32_t>(i); };
  auto [best, second] = rankTwo(address, weighted);
  plan.preferredAt = at(best);
  plan.runnerUpAt = at(second);
  const std::set<std::string>* held = findIn(view.holders, address);
  const std::string* record = findIn(view.recorded, address);
  plan.stickiness = stickinessOf(held, record);
  std::vector<size_t> holding;  // the holders that are still candidates
  size_t recorded = kNoCandidate;  // the recorded one, if among them
  if (held) {
    for (size_t i = 0; i < weighted.size(); ++i) {
      if (weighted[i].weight <= 0 || !held->count(weighted[i].node)) continue;
      holding.push_back(i);
      if (record && *record == weighted[i].node) recorded = i;
    }
  }
  // The owner with GONE out of the candidates (kNoCandidate for none gone): the preferred node,
  // unless a holder that is still a candidate keeps it (the recorded one first).
  std::vector<Candidate> left;
  std::vector<size_t> leftAt;
  auto ownerWithout = [&](size_t gone) {
    size_t preferred = best == gone && gone != kNoCandidate ? second : best;
    if (!held || (view.rebalance && preferred != kNoCandidate && held->count(weighted[preferred].node))) return preferred;
    if (recorded != kNoCandidate && recorded != gone) return recorded;
    left.clear();
    leftAt.clear();
    for (size_t i : holding) {
      if (i == gone) continue;
      left.push_back(weighted[i]);
      leftAt.push_back(i);
    }
    return left.empty() ? preferred : leftAt[rankTwo(address, left).first];
  };
  size_t owner = ownerWithout(kNoCandidate);
  plan.ownerAt = at(owner);
  plan.successorAt = owner == kNoCandidate ? AddressPlan::kNobody : at(ownerWithout(owner));
}

// Every address's plan from scratch, what they share into the caches.
std::map<std::string, AddressPlan> planEverything(const ClusterView& view, VerdictCache& verdicts,
                                                  AnnouncerCache& announcers) {
  // Which policies announce which address (the unit is the address: Services sharing one share
  // its plan).
  std::map<std::string, AddressPlan> plans;
  // Beside each plan (its node in `plans` never moves), the policies and Services it came from:
  // one lookup by address per Service and policy, not three (a plan of 10,000 addresses spent a
  // third of its time comparing address strings and allocating in per-address maps).
  std::unordered_map<const AddressPlan*, Sources> sourcesOf;
  sourcesOf.reserve(view.services.size());
  for (const auto& shared : view.services) {
    const ServiceInfo& s = *shared;
    for (uint32_t index = 0; index < view.policies.size(); ++index) {
      forEachAddress(s, view.policies[index], [&](const std::string& address) {
        AddressPlan& plan = plans[address];
        addSource(view, plan, sourcesOf[&plan], s, index);
      });
    }
  }
  for (auto& [address, plan] : plans) decide(view, address, plan, sourcesOf.at(&plan), verdicts, announcers);
  return plans;
}

// The Service keyed KEY in VIEW (sorted by key in ORDER), with its position in the view.
std::pair<const ServiceInfo*, size_t> findService(const ClusterView& view, const std::vector<uint32_t>& order,
                                                  const std::string& key) {
  auto it = std::lower_bound(order.begin(), order.end(), key,
                             [&](uint32_t i, const std::string& k) { return view.services[i]->key < k; });
  if (it == order.end() || view.services[*it]->key != key) return {nullptr, 0};
  return {view.services[*it].get(), *it};
}

}  // namespace

std::map<std::string, AddressPlan> planAddresses(const ClusterView& view) {
  VerdictCache verdicts;
  AnnouncerCache announcers;
  return planEverything(view, verdicts, announcers);
}

const std::string& AddressPlan::nameAt(uint32_t at) const {
  static const std::string kNone;
  return at < nodes->weighted.size() ? nodes->weighted[at].node : kNone;
}

AddressPlan AddressPlan::ownedBy(const std::string& owner) {
  AddressPlan plan;
  if (owner.empty()) return plan;
  auto nodes = std::make_shared<NodeVerdicts>();
  nodes->candidates = {owner};
  nodes->weighted = {{owner, 1.0}};
  plan.nodes = std::move(nodes);
  plan.ownerAt = plan.preferredAt = 0;
  return plan;
}

void Planner::compact() {
  std::map<std::string, AddressPlan> copies(plans_);
  plans_.swap(copies);
}

void Planner::planAll(const ClusterView& view) {
  verdicts_.clear();
  announcers_.clear();
  plans_ = planEverything(view, verdicts_, announcers_);
  lastPlanned_ = plans_.size();
  lastFull_ = true;
}

const std::map<std::string, AddressPlan>& Planner::plan(const ClusterView& view, const std::set<std::string>* changed) {
  bool policiesChanged = view.policies != policies_, nodesChanged = view.nodes != nodes_;
  // Most Services changed (a start, a relist): a full plan is the cheaper.
  bool full = !std::exchange(valid_, false) || !changed || changed->size() * 2 > view.services.size() ||
              policiesChanged || view.rebalance != rebalance_;
  if (full) {
    planAll(view);
  } else {
    // Planned again from their Services: a changed Service's addresses before (as their plans
    // name it) and after (below); only their owners chosen again: those whose holders or record
    // changed, those a node's change may move.
    std::set<std::string> dirty;
    std::vector<PlannedAddress*> owners;
    markChangedInputs(view, *changed, dirty, owners);
    std::vector<uint32_t> order(view.services.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    if (!view.servicesInKeyOrder) {
      std::sort(order.begin(), order.end(),
                [&](uint32_t a, uint32_t b) { return view.services[a]->key < view.services[b]->key; });
    }
    // The changed Services' addresses now, with the Services by their place in the view.
    std::map<std::string, std::vector<std::pair<size_t, const ServiceInfo*>>> announcing;
    for (const std::string& key : *changed) {
      auto [now, position] = findService(view, order, key);
      if (!now) continue;
      for (const L2Policy& policy : view.policies) {
        forEachAddress(*now, policy, [&](const std::string& address) {
          auto& list = announcing[address];
          if (list.empty() || list.back().second != now) list.emplace_back(position, now);
          dirty.insert(address);
        });
      }
    }
    if (nodesChanged) markNodesChanged(view, dirty, owners);
    std::sort(owners.begin(), owners.end());
    owners.erase(std::unique(owners.begin(), owners.end()), owners.end());
    size_t planned = 0;
    for (PlannedAddress* p : owners) {
      if (dirty.count(p->first)) continue;
      chooseOwners(view, p->first, p->second);
      ++planned;
    }
    // Each dirty address from scratch: its Services (those its plan had, those changed), in the
    // view's order, as a full plan meets them.
    std::vector<std::pair<size_t, const ServiceInfo*>> services;
    for (const std::string& address : dirty) {
      services.clear();
      auto old = plans_.find(address);
      if (old != plans_.end()) {
        for (const std::string& key : old->second.services) {
          if (auto found = findService(view, order, key); found.first) services.emplace_back(found.second, found.first);
        }
      }
      if (auto now = announcing.find(address); now != announcing.end()) {
        services.insert(services.end(), now->second.begin(), now->second.end());
      }
      std::sort(services.begin(), services.end());
      services.erase(std::unique(services.begin(), services.end()), services.end());
      AddressPlan plan;
      Sources sources;
      for (const auto& [position, info] : services) {
        for (uint32_t index = 0; index < view.policies.size(); ++index) {
          forEachAddress(*info, view.policies[index], [&](const std::string& a) {
            if (a == address) addSource(view, plan, sources, *info, index);
          });
        }
      }
      if (sources.services.empty()) {
        if (old != plans_.end()) plans_.erase(old);
        continue;
      }
      decide(view, address, plan, sources, verdicts_, announcers_);
      plans_.insert_or_assign(address, std::move(plan));
    }
    lastPlanned_ = planned + dirty.size();
    lastFull_ = false;
  }
  if (policiesChanged) policies_ = view.policies;
  if (nodesChanged) nodes_ = view.nodes;
  rebalance_ = view.rebalance;
  valid_ = true;
  return plans_;
}

void Planner::markChangedInputs(const ClusterView& view, const std::set<std::string>& changed,
                                std::set<std::string>& dirty, std::vector<PlannedAddress*>& owners) {
  // One walk of the plans (touching 50,000 scattered map nodes costs milliseconds) and, beside
  // them in address order, of the holders and records: no lookup per address.
  auto held = view.holders.begin();
  auto record = view.recorded.begin();
  for (auto& planned : plans_) {
    const auto& [address, plan] = planned;
    while (held != view.holders.end() && held->first < address) ++held;
    while (record != view.recorded.end() && record->first < address) ++record;
    const std::set<std::string>* h = held != view.holders.end() && held->first == address ? &held->second : nullptr;
    const std::string* r = record != view.recorded.end() && record->first == address ? &record->second : nullptr;
    if (!changed.empty() && std::any_of(plan.services.begin(), plan.services.end(),
                                        [&](const std::string& key) { return changed.count(key) > 0; })) {
      dirty.insert(address);
    } else if (stickinessOf(h, r) != plan.stickiness) {
      owners.push_back(&planned);
    }
  }
}

void Planner::markNodesChanged(const ClusterView& view, std::set<std::string>& dirty,
                               std::vector<PlannedAddress*>& owners) {
  // Every policy set judged again, and what changed among its candidates — a node that came,
  // went or changed weight — found once per set, not per address; with where each candidate
  // is in the new list, when any moved (a plan names nodes by position).
  struct Renewed {
    std::shared_ptr<const NodeVerdicts> verdicts;
    std::vector<std::pair<std::string, std::optional<double>>> changes;  // node, its weight now (none: gone)
    std::unordered_map<std::string, std::pair<size_t, double>> now;      // node -> position, weight now
    std::vector<uint32_t> moved;  // old position -> new (kNobody: gone); empty when none moved
  };
  std::unordered_map<const NodeVerdicts*, Renewed> renewed;
  for (auto& [policies, verdicts] : verdicts_) {
    Renewed r{.verdicts = judgeNodes(view, policies, nullptr), .changes = {}, .now = {}, .moved = {}};
    const auto& before = verdicts->weighted;
    const auto& after = r.verdicts->weighted;
    auto& now = r.now;
    for (size_t i = 0; i < after.size(); ++i) now[after[i].node] = {i, after[i].weight};
    bool samePlaces = before.size() == after.size();
    for (size_t i = 0; i < before.size(); ++i) {
      auto found = now.find(before[i].node);
      if (found == now.end()) {
        r.changes.emplace_back(before[i].node, std::nullopt);
      } else if (found->second.second != before[i].weight) {
        r.changes.emplace_back(before[i].node, found->second.second);
      }
      samePlaces = samePlaces && found != now.end() && found->second.first == i;
    }
    std::unordered_set<std::string> had;
    for (const Candidate& c : before) had.insert(c.node);
    for (const Candidate& c : after) {
      if (!had.count(c.node)) r.changes.emplace_back(c.node, c.weight);
    }
    if (!samePlaces) {
      for (const Candidate& c : before) {
        auto found = now.find(c.node);
        r.moved.push_back(found == now.end() ? AddressPlan::kNobody : static_cast<uint32_t>(found->second.first));
      }
    }
    const NodeVerdicts* old = verdicts.get();
    verdicts = r.verdicts;
    renewed.emplace(old, std::move(r));
  }
  for (auto& planned : plans_) {
    auto& [address, plan] = planned;
    auto fresh = renewed.find(plan.nodes.get());
    if (fresh == renewed.end()) {  // judged for its own Services' endpoints (Local): again
      dirty.insert(address);
      continue;
    }
    const Renewed& r = fresh->second;
    // Planned again only if a changed node was or may become one of its first two by hashing,
    // or holds it, or owns it or is its successor (read by the names it has now).
    if (!r.changes.empty()) {
      const std::set<std::string>* held = findIn(view.holders, address);
      const std::string& runnerUp = plan.runnerUp();
      // The second choice's score now, found only when a node came or changed weight (a node's
      // death needs no score).
      std::optional<double> bar;
      auto outranks = [&](const std::string& node, double weight) {
        if (!bar) {
          auto w = r.now.find(runnerUp);
          bar = w == r.now.end() ? -std::numeric_limits<double>::infinity()
                                 : rendezvousScore(address, {runnerUp, w->second.second});
        }
        return rendezvousScore(address, {node, weight}) >= *bar;
      };
      bool moves = plan.runnerUpAt == AddressPlan::kNobody;
      for (const auto& [node, weight] : r.changes) {
        if (moves) break;
        moves = node == plan.owner() || node == plan.preferred() || node == runnerUp || node == plan.successor() ||
                (held && held->count(node)) || (weight && outranks(node, *weight));
      }
      if (moves) owners.push_back(&planned);
    }
    // The new verdicts either way (an exclusion's reason may be all that changed), the nodes it
    // names where they are now.
    plan.nodes = r.verdicts;
    if (!r.moved.empty()) {
      for (uint32_t* at : {&plan.ownerAt, &plan.preferredAt, &plan.runnerUpAt, &plan.successorAt}) {
        if (*at != AddressPlan::kNobody) *at = *at < r.moved.size() ? r.moved[*at] : AddressPlan::kNobody;
      }
    }
  }
}

}  // namespace l2a::policy

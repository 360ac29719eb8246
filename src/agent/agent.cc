#include "agent/agent.h"

#include <malloc.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "common/timestamps.h"
#include "k8s/projection.h"
#include "agent/announcement_records.h"
#include "agent/fencing.h"
#include "policy/rendezvous.h"

namespace l2a::agent {
namespace {

using Json = nlohmann::json;
using Steady = std::chrono::steady_clock;

// A Lease record's own duration (0 when it has none), bounded to an hour: a huge one must not
// overflow the clock.
std::chrono::seconds recordedDuration(const Json& spec) {
  Json field = spec.is_object() ? spec.value("leaseDurationSeconds", Json(0)) : Json(0);
  return std::chrono::seconds(field.is_number_integer() ? std::clamp<int64_t>(field.get<int64_t>(), 0, 3600) : 0);
}

}  // namespace

Result<std::vector<PolicyKind>> discoverPolicyKinds(kube::Client& client) {
  std::vector<PolicyKind> kinds{{{"l2announcer.io", "v1alpha1", "l2announcementpolicies", false, "L2AnnouncementPolicy"},
                                 "l2announcer.io"}};
  kube::Resource cilium{"cilium.io", "v2alpha1", "ciliuml2announcementpolicies", false, "CiliumL2AnnouncementPolicy"};
  auto listed = client.list(cilium, "", {.limit = 1});
  // Only a 404 means "not installed"; a 403 or an outage is an error, never a missing kind.
  if (!listed && listed.error().code != kube::ApiErrorCodes::kNotFound) return fail(listed.error());
  // Cilium's and MetalLB's kinds are followed whether served now or not: optional informers
  // look again, so a CRD installed later takes effect with no restart.
  kinds.push_back({cilium, "cilium.io", true});
  kinds.push_back({kube::resources::kMetallbL2Advertisements, policy::kGroupMetallb, true});
  return kinds;
}

Agent::Agent(kube::Client& client, kube::Client& leaseClient, responder::Responder& responder, AgentOptions options,
             std::vector<PolicyKind> policyKinds, std::function<std::vector<net::LinkInfo>()> links)
    : client_(client),
      writer_(leaseClient),
      responder_(responder),
      options_(std::move(options)),
      policyKinds_(std::move(policyKinds)),
      links_(std::move(links)) {
  auto any = [this](const Json&) {
    ++objectEvents_;
    wake();
  };
  auto anyUpdate = [this](const Json&, const Json&) {
    ++objectEvents_;
    wake();
  };
  kube::InformerHandlers h{.onAdd = any, .onUpdate = anyUpdate, .onDelete = any, .oldObjectUnused = true};
  // Only what the plan reads is cached (k8s/projection.h): an agent runs on every node.
  auto keeping = [](const std::vector<k8s::Path>& fields) {
    kube::Informer::Options o;
    o.transform = [&fields](const Json& object) { return k8s::project(object, fields); };
    return o;
  };
  // Services also say which condition of ours they carry (to be compared before it is
  // rewritten, and turned False once no policy selects them).
  // `planned`: whether the plan may read something else now.
  auto serviceSeen = [this](const Json& service, bool gone, bool planned) {
    std::optional<StoredCondition> condition = gone ? std::nullopt : storedAnnouncedCondition(service);
    {
      std::lock_guard lock(mutex_);
      if (condition) {
        withCondition_.insert_or_assign(k8s::keyOf(service), std::move(*condition));
      } else {
        withCondition_.erase(k8s::keyOf(service));
      }
    }
    if (!planned) return;
    ++objectEvents_;
    wake();
  };
  // Of the conditions, only ours: compared before it is written (the operator's and others'
  // would be a third of each cached Service).
  auto serviceKept = [](const Json& service) {
    Json kept = k8s::project(service, k8s::agentServiceFields());
    k8s::keepCondition(kept, kAnnouncedCondition);
    return kept;
  };
  // The index has what plans read (and Events: the uid), withCondition_ what the condition's
  // writer compares: the informer keeps resourceVersions only.
  // An update the plan cannot see (a condition written, ours or the operator's) costs no plan:
  // at 10,000 Services the condition writes alone would re-plan every agent 20 times a second.
  services_ = std::make_unique<kube::Informer>(
      client_, kube::resources::kServices, "",
      kube::InformerHandlers{.onAdd = [this, serviceSeen](const Json& s) { serviceSeen(s, false, index_.serviceSeen(s)); },
                             .onUpdate = [this, serviceSeen](const Json&, const Json& s) { serviceSeen(s, false, index_.serviceSeen(s)); },
                             .onDelete = [this, serviceSeen](const Json& s) { serviceSeen(s, true, index_.serviceGone(s)); },
                             .oldObjectUnused = true},
      kube::Informer::Options{.transform = serviceKept, .versionsOnly = true});
  // Likewise a slice whose ready nodes stay the same (an endpoint's address, a pod restarted).
  auto sliceChanged = [this](bool planned) {
    if (!planned) return;
    ++objectEvents_;
    wake();
  };
  // The index has the ready nodes: only the slice's resourceVersion stays cached.
  kube::Informer::Options sliceOptions = keeping(k8s::agentEndpointSliceFields());
  sliceOptions.versionsOnly = true;
  slices_ = std::make_unique<kube::Informer>(
      client_, kube::resources::kEndpointSlices, "",
      kube::InformerHandlers{.onAdd = [this, sliceChanged](const Json& s) { sliceChanged(index_.sliceSeen(s)); },
                             .onUpdate = [this, sliceChanged](const Json&, const Json& s) { sliceChanged(index_.sliceSeen(s)); },
                             .onDelete = [this, sliceChanged](const Json& s) { sliceChanged(index_.sliceGone(s)); },
                             .oldObjectUnused = true},
      sliceOptions);
  nodes_ = std::make_unique<kube::Informer>(client_, kube::resources::kNodes, "", h, keeping(k8s::agentNodeFields()));
  auto leaseChanged = [this](const Json& lease) {
    std::string name = k8s::nameOf(lease);
    if (name.rfind(kNodeLeasePrefix, 0) != 0) return;
    // Any field may have any type: the record and its meaning are compared as text.
    const Json spec = lease.value("spec", Json::object());
    std::string record = spec.dump();
    // What changes a plan: the holder and the published interfaces. A plain renewal only keeps
    // the node live (judged at every resync), so it does not cost a reconcile.
    Json holder = spec.is_object() ? spec.value("holderIdentity", Json()) : Json();
    Json annotations = lease.value("/metadata/annotations"_json_pointer, Json::object());
    std::string meaning = (spec.is_object() ? holder.dump() : "") + "|" +
                          (annotations.is_object() ? annotations.value(kInterfacesAnnotation, Json()).dump() : "");
    bool wakeUp = false;
    size_t nodes = 0;
    {
      std::lock_guard lock(mutex_);
      NodeLeaseSeen& seen = nodeLeases_[name];
      if (seen.record != record) {
        // A renewal after the lease had expired by our clock (and by its previous record's
        // duration) changes plans at once: a node is back (addresses rendezvous hashing gives it
        // move now, not at the next resync, so the old and the new owner hand over on the same
        // event), or our own view is current again.
        auto now = Steady::now();
        if (now - seen.changed >= seen.duration) wakeUp = true;
        seen.record = std::move(record);
        seen.holder = holder.is_string() ? holder.get<std::string>() : "";
        seen.duration = recordedDuration(spec);
        seen.changed = now;
      }
      if (seen.meaning != meaning) ++objectEvents_;
      wakeUp = wakeUp || seen.meaning != meaning;
      seen.meaning = std::move(meaning);
      nodes = nodeLeases_.size();
    }
    sizeToCluster(nodes);
    if (wakeUp) wake();
  };
  leases_ = std::make_unique<kube::Informer>(
      client_, kube::resources::kLeases, options_.ns,
      kube::InformerHandlers{.onAdd = leaseChanged,
                             .onUpdate = [leaseChanged](const Json&, const Json& n) { leaseChanged(n); },
                             .onDelete = [this](const Json& lease) {
                               size_t nodes = 0;
                               {
                                 std::lock_guard lock(mutex_);
                                 nodeLeases_.erase(k8s::nameOf(lease));
                                 nodes = nodeLeases_.size();
                               }
                               sizeToCluster(nodes);
                               ++objectEvents_;
                               wake();
                             },
                             .oldObjectUnused = true});
  kube::Informer::Options optional;
  optional.optional = true;
  for (const PolicyKind& kind : policyKinds_) {
    policies_.push_back(std::make_unique<kube::Informer>(client_, kind.resource, "", h,
                                                         kind.optional ? optional : kube::Informer::Options{}));
  }
  // What MetalLB's L2Advertisements name: its IPAddressPools (their addresses and labels).
  metallbPools_ = std::make_unique<kube::Informer>(client_, kube::resources::kMetallbAddressPools, "", h, optional);
  events_ = std::make_unique<kube::EventRecorder>(
      leaseClient, kube::EventRecorder::Options{.component = "l2a-agent", .host = options_.nodeName});
  lease_ = std::make_unique<kube::LeaderElector>(
      options_.nodeLeaseClient != nullptr ? *options_.nodeLeaseClient : leaseClient,
      kube::LeaderElectionConfig{.ns = options_.ns,
                                 .name = kNodeLeasePrefix + options_.nodeName,
                                 .identity = options_.nodeName,
                                 .leaseDuration = options_.leaseDuration,
                                 .renewDeadline = options_.renewDeadline,
                                 .retryPeriod = options_.retryPeriod,
                                 .owners = [this] { return leaseOwners(); },
                                 .requestBudget = options_.nodeLeaseRequestBudget},
      kube::LeaderCallbacks{.onStartedLeading = [this] {
                              spdlog::info("event=node_lease_held node={}", options_.nodeName);
                              if (lostLease_.exchange(false)) {
                                // Back from a partition: watches may have been silently stale.
                                for (kube::Informer* i : informers()) i->relistNow();
                              }
                              wake();
                            },
                            .onStoppedLeading = [this] {
                              if (shuttingDown_.load()) return;
                              lostLease_ = true;
                              spdlog::warn("event=node_lease_lost node={} note=\"frozen: taking nothing new\"",
                                           options_.nodeName);
                              wake();
                            }});
}

std::vector<kube::Informer*> Agent::informers() {
  std::vector<kube::Informer*> out{services_.get(), slices_.get(), nodes_.get(), leases_.get()};
  for (auto& p : policies_) out.push_back(p.get());
  out.push_back(metallbPools_.get());
  return out;
}

void Agent::wake() {
  std::lock_guard lock(inbox_);
  markDirty();
}

void Agent::markDirty() {
  if (!dirty_) dirtySince_ = Steady::now();
  dirty_ = true;
  changed_.notify_one();
}

void Agent::linksChanged() { wake(); }

void Agent::wireChanged() {
  if (wire_ != nullptr) {
    auto detected = Steady::now();
    claimOnSilence(wire_->verdicts(detected), detected);
  }
  wake();
}

void Agent::conflictSeen(const packet::IpAddress& address, const packet::MacAddress& other, const std::string& port) {
  std::string text = packet::toString(address);
  std::string who = other.toString() + " on " + port;
  auto now = Steady::now();
  std::lock_guard lock(inbox_);
  reported_.emplace_back(text, std::move(who));
  reportedAt_.emplace_back(std::move(text), now);
  markDirty();
}

std::vector<std::pair<std::string, std::string>> Agent::takeInbox() {
  std::vector<std::pair<std::string, std::string>> conflicts;
  std::vector<std::pair<std::string, Steady::time_point>> seen;
  {
    std::lock_guard lock(inbox_);
    conflicts.swap(reported_);
    seen.swap(reportedAt_);
  }
  std::lock_guard lock(mutex_);
  for (const auto& [address, when] : seen) handover_.foreignSeen(address, when);
  return conflicts;
}

void Agent::reportProblems(const std::vector<std::string>& problems) {
  std::set<std::string> now(problems.begin(), problems.end());
  std::vector<std::string> fresh;
  {
    std::lock_guard lock(mutex_);
    for (const auto& p : now) {
      if (!problems_.count(p)) fresh.push_back(p);
    }
    problems_ = std::move(now);  // only what is malformed now: nothing grows
    status_.malformedObjects = problems_.size();
  }
  for (const auto& p : fresh) spdlog::warn("event=malformed_object node={} problem=\"{}\"", options_.nodeName, p);
}

AgentStatus Agent::status() const {
  auto events = events_->stats();
  std::lock_guard lock(mutex_);
  AgentStatus out = status_;
  out.events = events;
  return out;
}

bool Agent::nodeLeaseLive(const std::string& node, Steady::time_point now) {
  // Live while the record keeps changing by our own clock (client-go's rule): no trust in the
  // writer's clock.
  auto seen = nodeLeases_.find(kNodeLeasePrefix + node);
  if (seen == nodeLeases_.end()) return false;
  const NodeLeaseSeen& lease = seen->second;
  bool live = lease.holder == node && now - lease.changed < lease.duration;
  // Wake exactly when this live lease would expire, not at the next periodic resync.
  if (live) nextExpiry_ = std::min(nextExpiry_, lease.changed + lease.duration);
  return live;
}

std::string Agent::planInputs(const std::map<std::string, std::pair<bool, std::string>>& mine, bool frozen,
                              const wire::WireView& wire, Steady::time_point now) {
  std::string inputs = std::to_string(objectEvents_.load()) + (frozen ? " frozen" : " live");
  inputs += fmt::format(" wire-excluded={} last-resort={}", fmt::join(wire.excluded, ","), fmt::join(wire.lastResort, ","));
  // Who holds what (stickiness): the records and what the peers' heartbeats list (64 each at most).
  inputs += fmt::format(" records={}", records_ ? records_->generation() : 0);
  for (const auto& [node, addresses] : wire.announced) {
    inputs += " " + node + ":";
    for (const auto& a : addresses) inputs += packet::toString(a) + ",";
  }
  for (const auto& [name, state] : mine) inputs += fmt::format(" {}={}/{}", name, state.first, state.second);
  std::lock_guard lock(mutex_);
  nextExpiry_ = Steady::time_point::max();
  for (const auto& entry : nodeLeases_) {
    std::string node = entry.first.substr(std::string_view(kNodeLeasePrefix).size());
    inputs += " " + node + (nodeLeaseLive(node, now) ? "+" : "-");
  }
  return inputs;
}

// An interface silent on the wire while its node is heard on another is down in every plan (and
// held down after it comes back, so a port that blips does not pull addresses back) — also ours,
// when the peers say so: we cannot hear that our own port is cut.
void Agent::silenceInterfaces(policy::NodeInfo& node, const wire::WireView& wire) {
  if (!node.interfaces) return;
  for (auto& [name, up] : *node.interfaces) {
    std::string entry = node.name + "/" + name;
    if (up && (wire.excluded.count(entry) || wire.lastResort.count(entry))) up = false;
  }
}

policy::ClusterView Agent::snapshot(const wire::WireView& wire, bool wireOnly, Steady::time_point now,
                                    std::optional<std::set<std::string>>& changed) {
  std::vector<policy::L2Policy> policies;
  std::vector<ipam::Pool> metallbPools;
  for (const Json& p : metallbPools_->items()) metallbPools.push_back(ipam::parsePool(p, policy::kGroupMetallb));
  for (size_t i = 0; i < policies_.size(); ++i) {
    for (auto& p : policy::parsePolicies(policies_[i]->items(), policyKinds_[i].group, metallbPools)) {
      policies.push_back(std::move(p));
    }
  }
  {
    std::lock_guard lock(mutex_);
    nextExpiry_ = Steady::time_point::max();
  }
  ViewInputs in{
      .services = {},
      .endpointSlices = {},
      .serviceInfos = index_.servicesAndChanges(changed),
      .policies = std::move(policies),
      .nodes = [this](const auto& visit) { nodes_->forEach(visit); },
      .leaseOf = [this](const std::string& node) { return leases_->get(options_.ns + "/" + kNodeLeasePrefix + node); },
      .live = [this, now](const std::string& node, const Json&) {
        std::lock_guard lock(mutex_);
        return nodeLeaseLive(node, now);
      },
      .classes = options_.classes,
      .avoid = options_.avoid};
  policy::ClusterView view = buildClusterView(std::move(in));
  view.servicesInKeyOrder = true;  // the index's order, and no Service objects besides
  // Ourselves: live while we renew our Lease within the deadline AND see our own renewals come
  // back through the watch — a view that lags behind the API server must not take anything.
  bool live = !frozenNow();
  std::set<std::string> leaseLive;
  std::vector<std::string> leaseDeadHeard;
  for (auto& node : view.nodes) {
    if (node.name == options_.nodeName) node.live = live;
    if (node.live) leaseLive.insert(node.name);
    if (!node.live && node.name != options_.nodeName && wire.heard.count(node.name)) leaseDeadHeard.push_back(node.name);
    // The API server out of reach for us: the nodes that were Lease-live and are still heard
    // (us, when we hear anyone) decide among themselves; the Lease takes over again when it
    // returns.
    if (wireOnly) {
      node.live = lastLeaseLive_.count(node.name) && (node.name == options_.nodeName || wire.heard.count(node.name));
    }
    // The wire only takes liveness away: a node it excludes (silent, or said so by a peer we
    // hear — us included) takes nothing; one held down after coming back is a last resort.
    if (wire.excluded.count(node.name)) node.live = false;
    if (wire.lastResort.count(node.name)) node.weight = 0;
    silenceInterfaces(node, wire);
  }
  std::lock_guard lock(mutex_);
  if (live) {
    lastLeaseLive_ = std::move(leaseLive);
    leaseDeadHeard_ = std::move(leaseDeadHeard);
  } else {
    leaseDeadHeard_.clear();  // frozen, our view of others' Leases proves nothing
  }
  return view;
}

bool Agent::viewFresh() {
  auto duration = lease_->timing().leaseDuration;
  std::lock_guard lock(mutex_);
  auto seen = nodeLeases_.find(kNodeLeasePrefix + options_.nodeName);
  return seen != nodeLeases_.end() && Steady::now() - seen->second.changed < duration;
}

Json Agent::leaseOwners() const {
  auto node = nodes_->get(options_.nodeName);
  Json uid = node ? node->value("/metadata/uid"_json_pointer, Json()) : Json();
  if (!uid.is_string() || uid.get<std::string>().empty()) return Json::array();
  return Json::array({{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", options_.nodeName}, {"uid", uid}}});
}

bool Agent::frozenNow() {
  return isFrozen(lease_->isLeader(), lease_->lastRenew(), Steady::now(), lease_->timing().renewDeadline) ||
         !viewFresh();
}

void Agent::sizeToCluster(size_t nodes) {
  if (clusterNodes_.exchange(nodes) == nodes) return;  // most Lease events are renewals
  double count = static_cast<double>(std::max<size_t>(nodes, 1));
  responder_.setProbeRate(responder::Responder::kSegmentProbeBudget / count);
  if (options_.leaseRenewals <= 0) return;
  // Seconds between one node's renewals for the cluster to make `leaseRenewals` a second.
  double period = count / options_.leaseRenewals;
  lease_->stretch(period / std::chrono::duration<double>(options_.retryPeriod).count());
}

void Agent::publishInterfaces(const std::map<std::string, std::pair<bool, std::string>>& mine) {
  Json published = Json::object();
  for (const auto& [name, state] : mine) published[name] = {{"up", state.first}, {"mac", state.second}};
  std::string text = published.dump();
  if (!lease_->isLeader()) return;
  // Compare with what our Lease says now, as the watch shows it — not with what we last meant
  // to write: a patch that timed out while the link was down can still reach the API server
  // after the link is back and leave a stale state there. Give a fresh write a second to come
  // back through the watch before writing again.
  std::string observed;
  if (auto own = leases_->get(options_.ns + "/" + kNodeLeasePrefix + options_.nodeName)) {
    auto a = own->value("/metadata/annotations"_json_pointer, Json::object());
    if (a.is_object() && a.contains(kInterfacesAnnotation) && a[kInterfacesAnnotation].is_string()) {
      observed = a[kInterfacesAnnotation].get<std::string>();
    }
  }
  if (text == observed) return;
  if (text == publishedInterfaces_ && Steady::now() - publishedAt_ < std::chrono::seconds(1)) return;
  publishedAt_ = Steady::now();
  auto r = writer_.patch(kube::resources::kLeases, options_.ns, kNodeLeasePrefix + options_.nodeName,
                         {{"metadata", {{"annotations", {{kInterfacesAnnotation, text}}}}}});
  if (r) {
    publishedInterfaces_ = text;
    spdlog::info("event=interfaces_published node={} interfaces={}", options_.nodeName, text);
  }
}

bool Agent::wireOnlyPossible(const wire::WireView& wire) {
  if (!wire_ || !wire.enabled || wire.isolated || wire.heard.empty()) return false;
  std::lock_guard lock(mutex_);
  return lastLeaseLive_.count(options_.nodeName) > 0;
}

bool Agent::heardAnnouncing(const wire::WireView& wire, const std::string& node, const std::string& address) {
  auto peer = wire.announced.find(node);
  if (peer == wire.announced.end()) return false;
  auto parsed = packet::parseIpAddress(address);
  return parsed && std::find(peer->second.begin(), peer->second.end(), *parsed) != peer->second.end();
}

std::string Agent::takeoverCause(const policy::ClusterView& view, const wire::WireView& wire,
                                 const std::string& address) const {
  auto last = lastOwner_->find(address);
  if (last == lastOwner_->end() || last->second.empty() || last->second == options_.nodeName) return "plan";
  if (wire.excluded.count(last->second) || wire.lastResort.count(last->second)) return "wire";
  auto ofOwner = [&](const std::set<std::string>& entries) {
    auto from = entries.lower_bound(last->second + "/");
    return from != entries.end() && from->starts_with(last->second + "/");
  };
  if (ofOwner(wire.excluded) || ofOwner(wire.lastResort)) return "wire";  // one of its interfaces
  auto node = std::find_if(view.nodes.begin(), view.nodes.end(), [&](const auto& n) { return n.name == last->second; });
  if (node == view.nodes.end() || !node->live) return "lease";
  if (!node->avoided.empty()) return "drain";
  // Live, but its agent published no interface up: its carrier went.
  bool anyUp = !node->interfaces ||
               std::any_of(node->interfaces->begin(), node->interfaces->end(), [](const auto& i) { return i.second; });
  return anyUp ? "plan" : "carrier";
}

// Each change of what the wire says about a node (or one of its interfaces), once.
void Agent::logWireVerdicts(const wire::WireView& wireView) {
  for (const std::string& node : wireView.excluded) {
    if (!wireExcluded_.count(node)) {
      spdlog::info("event=wire_silent node={} observer={} isolated={}", node, options_.nodeName, wireView.isolated);
    }
  }
  for (const std::string& node : wireExcluded_) {
    if (!wireView.excluded.count(node)) spdlog::info("event=wire_heard node={} observer={}", node, options_.nodeName);
  }
  wireExcluded_ = wireView.excluded;
}

std::vector<std::string> Agent::newlySilentOwners(const wire::WireView& wire, const std::set<std::string>& before,
                                                  const Successions& successions) const {
  std::vector<std::string> silent;
  // Only when we hear someone (hearing nobody, we may be the one cut off) and the wire does
  // not exclude us (a peer accuses us, or holds us down).
  if (!wire.enabled || wire.isolated || wire.excluded.count(options_.nodeName)) return silent;
  for (const std::string& node : wire.excluded) {
    if (node.find('/') != std::string::npos || before.count(node)) continue;  // an interface, or not new
    if (successions.byOwner.count(node)) silent.push_back(node);
  }
  return silent;
}

std::vector<std::string> Agent::ownersGone(const wire::WireView& wire, Steady::time_point now) {
  if (successions_->byOwner.empty()) return {};
  std::vector<std::string> gone = newlySilentOwners(wire, wireExcluded_, *successions_);
  // Lease-live at the last plan we made live, and not now (expired, handed to another holder,
  // deleted): the plan will say the same, by the same rule at the same `now`.
  std::lock_guard lock(mutex_);
  for (const auto& [node, list] : successions_->byOwner) {
    if (!lastLeaseLive_.count(node) || std::find(gone.begin(), gone.end(), node) != gone.end()) continue;
    if (!nodeLeaseLive(node, now)) {
      gone.push_back(node);
    }
  }
  return gone;
}

void Agent::claimSuccessions(const wire::WireView& wire, Steady::time_point now) {
  std::vector<const std::vector<std::pair<std::string, uint32_t>>*> lists;
  for (const std::string& node : ownersGone(wire, now)) lists.push_back(&successions_->byOwner.at(node));
  if (lists.empty()) return;
  if (frozenNow()) return;
  std::vector<std::pair<packet::IpAddress, k8s::InterfaceSelector>> toClaim;
  {
    std::lock_guard lock(mutex_);
    if (status_.frozen) return;
    for (const auto* list : lists) {
      for (const auto& [address, set] : *list) {
        if (handover_.claimed().count(address) || claimedAhead_.count(address)) continue;
        const auto& selector = successions_->selectors[set];
        auto ip = packet::parseIpAddress(address);
        if (!selector || !ip) continue;
        toClaim.emplace_back(*ip, *selector);
        claimedAhead_.emplace(address, successions_->patterns[set]);
        status_.announced.push_back(address);  // as claimed, for /metrics (the plan sets it anew)
      }
    }
  }
  if (toClaim.empty()) return;
  responder_.claim(std::move(toClaim));
  claimedAheadAt_ = Steady::now();
}

void Agent::claimOnSilence(const wire::WireView& wire, Steady::time_point detected) {
  std::set<std::string> before = std::exchange(silentSeen_, wire.excluded);
  std::shared_ptr<const Successions> successions;
  {
    std::lock_guard lock(inbox_);
    if (shuttingDown_.load() || detected >= claimsAheadUntil_) return;
    successions = successionsShared_;
  }
  std::vector<std::pair<packet::IpAddress, k8s::InterfaceSelector>> toClaim;
  std::vector<std::pair<std::string, std::vector<std::string>>> claimed;
  for (const std::string& node : newlySilentOwners(wire, before, *successions)) {
    for (const auto& [address, set] : successions->byOwner.at(node)) {
      const auto& selector = successions->selectors[set];
      auto ip = packet::parseIpAddress(address);
      if (!selector || !ip) continue;
      toClaim.emplace_back(*ip, *selector);
      claimed.emplace_back(address, successions->patterns[set]);
    }
  }
  if (toClaim.empty()) return;
  responder_.claim(std::move(toClaim));  // the responder's lock, PiMutex: never a control-plane lock
  auto at = Steady::now();
  std::lock_guard lock(inbox_);
  if (claimedOnSilence_.empty()) silenceFoundAt_ = detected;
  silenceClaimedAt_ = at;
  claimedOnSilence_.insert(claimedOnSilence_.end(), std::make_move_iterator(claimed.begin()),
                           std::make_move_iterator(claimed.end()));
}

void Agent::takeClaimedOnSilence() {
  std::vector<std::pair<std::string, std::vector<std::string>>> claimed;
  Steady::time_point found, at;
  {
    std::lock_guard lock(inbox_);
    claimed.swap(claimedOnSilence_);
    found = silenceFoundAt_;
    at = silenceClaimedAt_;
  }
  if (claimed.empty()) return;
  // The take-over began when the silence was found, and was answered when these were claimed.
  passWokenAt_ = std::min(passWokenAt_, found);
  claimedAheadAt_ = at;
  std::lock_guard lock(mutex_);
  for (auto& [address, patterns] : claimed) {
    if (handover_.claimed().count(address)) continue;  // a plan gave it to us meanwhile
    if (claimedAhead_.try_emplace(address, std::move(patterns)).second) {
      status_.announced.push_back(address);  // as claimed, for /metrics (the plan sets it anew)
    }
  }
}

void Agent::allowClaimsAhead() {
  // Frozen once our renewal is older than the deadline (fencing.h), or once our own Lease has
  // not come back through the watch for a Lease duration (viewFresh): until the first of them.
  Steady::time_point until{};
  if (lease_->isLeader()) {
    kube::LeaseTiming timing = lease_->timing();
    std::lock_guard lock(mutex_);
    auto seen = nodeLeases_.find(kNodeLeasePrefix + options_.nodeName);
    if (!status_.frozen && seen != nodeLeases_.end()) {
      until = std::min(lease_->lastRenew() + timing.renewDeadline, seen->second.changed + timing.leaseDuration);
    }
  }
  std::lock_guard lock(inbox_);
  claimsAheadUntil_ = until;
  successionsShared_ = successions_;
}

void Agent::keepSuccessions(const std::map<std::string, policy::AddressPlan>& plans) {
  auto next = std::make_shared<Successions>();
  std::map<std::vector<std::string>, uint32_t> sets;
  for (const auto& [address, plan] : plans) {
    if (plan.successor() != options_.nodeName || plan.owner().empty() || plan.owner() == options_.nodeName) continue;
    auto [set, fresh] = sets.try_emplace(plan.interfacePatterns(), static_cast<uint32_t>(next->patterns.size()));
    if (fresh) {
      next->patterns.push_back(plan.interfacePatterns());
      auto created = k8s::InterfaceSelector::create(plan.interfacePatterns());
      next->selectors.push_back(created ? std::optional(std::move(*created)) : std::nullopt);
    }
    next->byOwner[plan.owner()].emplace_back(address, set->second);
  }
  successions_ = std::move(next);
  allowClaimsAhead();
}

void Agent::reconcile() {
  // First of all, before any API or netlink call: a peer the wire has just found silent, or
  // whose Lease has just expired.
  auto passStart = Steady::now();
  wire::WireView wireView = wire_ ? wire_->view() : wire::WireView{};
  takeClaimedOnSilence();
  claimSuccessions(wireView, passStart);
  allowClaimsAhead();
  for (auto& [address, other] : takeInbox()) {
    std::lock_guard lock(mutex_);
    conflicts_[address] = std::move(other);
  }
  // This node's interfaces, as the policies' regexes will see them.
  std::map<std::string, std::pair<bool, std::string>> mine;
  for (const net::LinkInfo& l : links_()) {
    if (l.ethernet && options_.interfaces.matches(l.name)) mine[l.name] = {l.up && l.carrier, l.mac.toString()};
  }
  publishInterfaces(mine);
  logWireVerdicts(wireView);
  bool frozenAtStart = frozenNow();
  // Nothing the plan depends on changed since the last one (the periodic resync on a quiet
  // cluster): skip planning, which costs O(Services), unless something is pending.
  bool wireOnlyNow = frozenAtStart && wireOnlyPossible(wireView);
  std::string inputs = planInputs(mine, frozenAtStart, wireView, passStart);
  if (wireOnlyNow) inputs += fmt::format(" wire-only heard={}", fmt::join(wireView.heard, ","));
  bool skip = false;
  {
    std::lock_guard lock(mutex_);
    skip = inputs == lastPlanInputs_ && conflicts_.empty() && !handover_.handingOver() &&
           status_.frozen == frozenAtStart && !rebalancePending_ && claimedAhead_.empty();
    if (skip) {
      ++status_.reconciles;
      ++status_.plansSkipped;
    } else {
      lastPlanInputs_ = inputs;
    }
  }
  if (skip) {
    // Quiet again after plans: what they built and freed (maps of 10,000 addresses, on this
    // thread's and the writers' malloc arenas) goes back to the system, not kept for good —
    // after a start or a relist, with the Services' infos first copied together, off the pages
    // the list's temporaries left (ServiceIndex::compact).
    size_t copied = index_.compact(kCompactAfter);
    if (copied > 0) spdlog::info("event=services_compacted services={}", copied);
    if (std::exchange(trimPending_, false) || copied > 0) {
      malloc_trim(0);
      lastTrim_ = Steady::now();
    }
    return;
  }
  trimPending_ = true;
  auto planStart = Steady::now();
  bool frozenAtPlan = frozenNow();
  bool wireOnly = frozenAtPlan && wireOnlyPossible(wireView);
  policy::ClusterView view;
  std::map<std::string, std::set<std::string>> recorded;
  Steady::time_point snapshotDone;
  onPlanner([&] {
    try {
      std::optional<std::set<std::string>> changedServices;
      view = snapshot(wireView, wireOnly, passStart, changedServices);
      reportProblems(view.problems);
      for (auto& node : view.nodes) {
        if (node.name != options_.nodeName) continue;
        std::map<std::string, bool> up;
        for (const auto& [name, state] : mine) up[name] = state.first;
        node.interfaces = up;  // our own state first-hand, not as last published
        silenceInterfaces(node, wireView);
      }
      // The records, read once per plan (10,000 of them at scale).
      if (records_) recorded = records_->holders();
      view.holders = holders(wireView, recorded);
      view.rebalance = options_.rebalance;
      for (const auto& [address, nodes] : recorded) {
        if (nodes.size() == 1) view.recorded[address] = *nodes.begin();
      }
      snapshotDone = Steady::now();
      plans_.plan(view, changedServices ? &*changedServices : nullptr);
    } catch (...) {
      plans_.forget();  // the Services' changes taken may be lost: the next plan plans everything
      throw;
    }
  });
  // A full plan's, made among its temporaries on the planner thread: copied here, so that
  // thread's heap is given back whole at the next trim.
  if (plans_.lastFull()) plans_.compact();
  const std::map<std::string, policy::AddressPlan>& plans = plans_.plans();
  auto planDone = Steady::now();
  // Deciding by the wire, a frozen node may take and give up addresses as if it were live.
  bool frozen = frozenAtPlan && !wireOnly;
  std::map<std::string, std::vector<std::string>> desired;
  for (const auto& [address, plan] : plans) {
    if (plan.owner() == options_.nodeName && packet::parseIpAddress(address)) desired[address] = plan.interfacePatterns();
  }

  // Decided under the lock, done after it: responder calls and log lines wait for nothing.
  std::vector<packet::IpAddress> toRelease, toReannounce;
  std::vector<std::pair<packet::IpAddress, k8s::InterfaceSelector>> toClaim;
  std::vector<std::pair<spdlog::level::level_enum, std::string>> logs;
  std::vector<std::tuple<std::string, std::string, std::string>> events;  // service, reason, message
  std::map<std::string, uint64_t> passCauses;  // take-overs of this pass by cause
  std::unique_lock lock(mutex_);
  ++status_.reconciles;
  status_.plansFull += plans_.lastFull();
  status_.addressesPlanned += plans_.lastPlanned();
  // Frozen, we cannot vouch for what we announce: the responder keeps asking the LAN whether
  // another node answers for it (an answer comes back as a conflict, and a frozen node never
  // is the rightful owner). Thawed, announce again: clients may have moved meanwhile.
  bool thawed = status_.frozen && !frozenAtPlan;
  if (wireOnly != status_.wireOnly) {
    logs.emplace_back(spdlog::level::warn,
                      wireOnly ? fmt::format("event=wire_only node={} note=\"API server out of reach: deciding by heartbeats among the nodes Lease-live before\"", options_.nodeName)
                               : fmt::format("event=wire_only_ended node={}", options_.nodeName));
  }
  status_.frozen = frozenAtPlan;
  status_.wireOnly = wireOnly;
  auto now = Steady::now();
  HandoverInput input{.desired = std::move(desired),
                      .owners = {},
                      .conflicts = std::exchange(conflicts_, {}),
                      .heardAnnouncing = [&wireView](const std::string& node, const std::string& address) {
                        return heardAnnouncing(wireView, node, address);
                      },
                      .frozen = frozen,
                      .now = now};
  for (const auto& [address, plan] : plans) input.owners[address] = plan.owner();
  if (options_.rebalance && !frozen) {
    for (const std::string& address : rebalancePulls(plans, now)) {
      input.desired[address] = plans.at(address).interfacePatterns();
      input.owners[address] = options_.nodeName;
      ++status_.rebalanced;
    }
  }
  HandoverActions actions = handover_.step(input);
  auto stepDone = Steady::now();
  // Answering first, the bookkeeping after: the responder is told before the log lines, Events
  // and notes of thousands of addresses are made (a take-over lasts until it answers).
  for (const std::string& address : actions.release) toRelease.push_back(*packet::parseIpAddress(address));
  // One compiled selector per set of patterns, shared by the claims that use it (thousands of
  // addresses under one policy would otherwise hold thousands of copies of the same regexes).
  std::map<std::vector<std::string>, std::optional<k8s::InterfaceSelector>> selectors;
  for (const auto& [address, patterns] : actions.claim) {
    auto [known, fresh] = selectors.try_emplace(patterns);
    if (fresh) {
      if (auto created = k8s::InterfaceSelector::create(patterns)) known->second = std::move(*created);
    }
    if (!known->second) continue;  // invalid policies never reach a plan
    // Claimed ahead of this plan on its owner's silence, as this plan has it: answered already.
    auto ahead = claimedAhead_.find(address);
    if (ahead != claimedAhead_.end() && ahead->second == patterns) continue;
    toClaim.emplace_back(*packet::parseIpAddress(address), *known->second);
  }
  // Claimed ahead, but this plan does not give it to us (it saw more than the silence): let go.
  size_t ahead = 0;
  for (const auto& [address, patterns] : claimedAhead_) {
    if (handover_.claimed().count(address)) {
      ++ahead;
      continue;
    }
    toRelease.push_back(*packet::parseIpAddress(address));
    ++status_.givenBackSoon;
    logs.emplace_back(spdlog::level::info, fmt::format("event=released address={} node={} note=\"claimed on its owner's "
                                                       "silence, not this plan's\"", address, options_.nodeName));
  }
  bool answeredAhead = ahead > 0 && ahead == actions.started.size();
  status_.claimedAhead += ahead;
  claimedAhead_.clear();
  lock.unlock();
  responder_.setConfirmed(!frozen);
  if (!toRelease.empty()) responder_.release(toRelease);
  if (!toClaim.empty()) responder_.claim(std::move(toClaim));
  auto claimed = Steady::now();
  lock.lock();
  // The responder yields an address from the moment it reports a conflict on it (responder.h);
  // decided, what we keep and do not hand over answers with Override again.
  std::vector<std::string> contested;
  for (const auto& [address, other] : input.conflicts) {
    if (std::find(actions.release.begin(), actions.release.end(), address) == actions.release.end()) contested.push_back(address);
  }
  status_.conflictsWon += actions.conflictsWon;
  status_.conflictsLost += actions.conflictsLost;
  for (auto& [warning, line] : actions.logs) logs.emplace_back(warning ? spdlog::level::warn : spdlog::level::info, std::move(line));
  for (const std::string& address : actions.reannounce) toReannounce.push_back(*packet::parseIpAddress(address));
  for (const std::string& address : actions.release) {
    if (auto note = claimNotes_.find(address); note != claimNotes_.end()) {
      if (now - note->second.at < std::chrono::seconds(1)) ++status_.givenBackSoon;
      claimNotes_.erase(note);
    }
    ++status_.releases;
    logs.emplace_back(spdlog::level::info, fmt::format("event=released address={} node={}", address, options_.nodeName));
    auto plan = plans.find(address);
    if (plan == plans.end()) continue;
    std::string why = plan->second.owner().empty() ? "no candidate node" : "now announced by " + plan->second.owner();
    for (const auto& svc : plan->second.services) {
      events.emplace_back(svc, "AnnouncementStopped",
                          fmt::format("node {} stopped announcing {}: {}", options_.nodeName, address, why));
    }
  }
  const std::set<std::string> started(actions.started.begin(), actions.started.end());  // thousands at a take-over
  for (const auto& [address, patterns] : actions.claim) {
    const auto& selector = selectors[patterns];
    if (!selector || !started.count(address)) continue;
    ++status_.takeovers;
    std::string cause = takeoverCause(view, wireView, address);
    ++status_.takeoversByCause[cause];
    ++passCauses[cause];
    claimNotes_[address] = {.at = now,
                            .since = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()),
                            .cause = cause};
    std::vector<std::string> macs;
    for (const auto& [name, state] : mine) {
      if (state.first && selector->matches(name)) macs.push_back(name + " " + state.second);
    }
    logs.emplace_back(spdlog::level::info, fmt::format("event=announcing address={} node={} interfaces=\"{}\" cause={}",
                                                       address, options_.nodeName, fmt::join(macs, ","), cause));
    for (const auto& svc : plans.at(address).services) {
      events.emplace_back(svc, "AnnouncementStarted", fmt::format("node {} announces {} on {}", options_.nodeName, address,
                                                     macs.empty() ? std::string("no interface up") : fmt::format("{}", fmt::join(macs, ", "))));
    }
  }
  status_.announced.clear();
  std::vector<packet::IpAddress> announced;
  for (const auto& [address, scope] : handover_.claimed()) {
    status_.announced.push_back(address);
    announced.push_back(*packet::parseIpAddress(address));
    if (thawed && !actions.claim.count(address)) toReannounce.push_back(*packet::parseIpAddress(address));
  }
  // Who owns what, for the next take-over's cause: only addresses some plan has.
  AnnouncementStatus::PlannedOwners owners;
  owners.reserve(plans.size());
  status_.kept = 0;
  for (const auto& [address, plan] : plans) {
    owners.appendOrdered(address, plan.owner());
    if (plan.owner() == options_.nodeName && !plan.preferred().empty() && plan.preferred() != plan.owner()) ++status_.kept;
  }
  lastOwner_ = std::make_shared<const AnnouncementStatus::PlannedOwners>(std::move(owners));
  auto plannedOwners = lastOwner_;
  std::set<std::string> yielding = handover_.handingOverAddresses();
  lock.unlock();
  // Handed over, still answered: without Override, so clients that took the new owner's MAC
  // keep it (responder.h). A release ends it; one given back to us answers with Override again.
  for (const std::string& address : yielding) {
    if (!yielding_.count(address)) responder_.setYielding(*packet::parseIpAddress(address), true);
  }
  for (const std::string& address : yielding_) {
    if (!yielding.count(address)) responder_.setYielding(*packet::parseIpAddress(address), false);
  }
  for (const std::string& address : contested) {
    if (!yielding.count(address)) responder_.setYielding(*packet::parseIpAddress(address), false);
  }
  yielding_ = std::move(yielding);

  if (records_) records_->setPlannedOwners(std::move(plannedOwners));
  {
    auto ms = [](Steady::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    auto woken = std::min(passWokenAt_, planStart);
    std::lock_guard guard(mutex_);
    status_.planSeconds += std::chrono::duration<double>(claimed - planStart).count();
    if (!actions.started.empty()) {
      status_.lastTakeoverAddresses = actions.started.size();
      // Answered once every address taken was: on the owner's silence when all were claimed
      // ahead of the plan, else when this plan's claims were made.
      auto answered = answeredAhead ? claimedAheadAt_ : claimed;
      status_.lastTakeoverSeconds = std::chrono::duration<double>(answered - woken).count();
      // Where a take-over's time went: waiting for the loop, reading the caches, planning, the
      // hand-over decisions (with the lock's wait), telling the responder; and how many of its
      // addresses were claimed ahead of the plan, as the last plan's successors.
      logs.emplace_back(spdlog::level::info,
                        fmt::format("event=took_over node={} addresses={} after_ms={} ahead={} waited_ms={} snapshot_ms={} "
                                    "plan_ms={} decide_ms={} claim_ms={}",
                                    options_.nodeName, actions.started.size(), ms(answered - woken), ahead, ms(planStart - woken),
                                    ms(snapshotDone - planStart),
                                    ms(planDone - snapshotDone), ms(stepDone - planDone), ms(claimed - stepDone)));
    }
  }
  for (const auto& address : toReannounce) responder_.reannounce(address);
  // Only now in our heartbeats: a node handing an address over to us lets go when it hears us
  // list it, and we must already be answering then (listed first, the drain test saw nobody
  // answer for 16 ms in 1 move of 10).
  if (wire_) {
    wire_->setAnnounced(std::move(announced));
    std::lock_guard guard(mutex_);
    wire_->setLeaseDead(leaseDeadHeard_);
  }
  for (const auto& [level, line] : logs) spdlog::log(level, "{}", line);
  emitEvents(events, actions.started.size(), actions.release.size(), passCauses);
  keepSuccessions(plans);
  if (!frozenAtPlan) {
    writePolicyStatuses(view);
    writeRecords(view, plans, mine);
  } else if (records_) {
    // Frozen, what we last wanted may be stale by the time the API server answers again: write
    // nothing until a plan made live says what we hold.
    records_->holdRecords();
  }
}

std::map<std::string, std::set<std::string>> Agent::holders(const wire::WireView& wire,
                                                            const std::map<std::string, std::set<std::string>>& recorded) {
  // A record is believed only for a node the wire cannot vouch for: not us (our claims are
  // first-hand), nor a peer whose heartbeat lists everything it announces. A stale record must
  // not make a node the owner of what it no longer announces.
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [address, nodes] : recorded) {
    for (const std::string& node : nodes) {
      if (node != options_.nodeName && !wire.listedAll.count(node)) out[address].insert(node);
    }
  }
  for (const auto& [node, addresses] : wire.announced) {
    for (const auto& a : addresses) out[packet::toString(a)].insert(node);
  }
  std::map<std::string, std::string> conflicts;  // address -> "MAC on port"
  {
    std::lock_guard lock(mutex_);
    for (const auto& [address, scope] : handover_.claimed()) out[address].insert(options_.nodeName);
    conflicts = conflicts_;
  }
  // A peer heard announcing an address we announce (a conflict) holds it, whatever the records
  // and its heartbeat say: two nodes holding an address that no record and no heartbeat shows
  // (more than a heartbeat lists, records still to be written) would each be its rightful
  // owner and announce over each other for good. Its node is found by the MACs the nodes
  // publish on their Leases.
  if (!conflicts.empty()) {
    std::map<std::string, std::string> nodeOfMac;
    leases_->forEach([&](const Json& lease) {
      std::string name = k8s::nameOf(lease);
      if (name.rfind(kNodeLeasePrefix, 0) != 0) return;
      Json interfaces = Json::parse(annotation(lease, kInterfacesAnnotation), nullptr, false);
      if (!interfaces.is_object()) return;
      for (const auto& [port, state] : interfaces.items()) {
        auto mac = state.is_object() ? state.find("mac") : state.end();
        if (state.is_object() && mac != state.end() && mac->is_string()) {
          nodeOfMac[mac->get<std::string>()] = name.substr(std::string_view(kNodeLeasePrefix).size());
        }
      }
    });
    for (const auto& [address, other] : conflicts) {
      auto node = nodeOfMac.find(other.substr(0, other.find(' ')));
      if (node != nodeOfMac.end() && node->second != options_.nodeName) out[address].insert(node->second);
    }
  }
  return out;
}

std::vector<std::string> Agent::rebalancePulls(const std::map<std::string, policy::AddressPlan>& plans,
                                               Steady::time_point now) {
  if (now - rebalanceWindow_ >= std::chrono::seconds(1)) {
    rebalanceWindow_ = now;
    rebalancedInWindow_ = 0;
  }
  std::vector<std::string> out;
  rebalancePending_ = false;
  for (const auto& [address, plan] : plans) {
    if (plan.preferred() != options_.nodeName || plan.owner() == options_.nodeName || plan.owner().empty()) continue;
    if (!packet::parseIpAddress(address)) continue;
    if (rebalancedInWindow_ + 1 > options_.rebalanceRate) {
      rebalancePending_ = true;  // more to take back: planned again at the next resync
      break;
    }
    out.push_back(address);
    rebalancedInWindow_ += 1;
  }
  return out;
}

void Agent::writeRecords(const policy::ClusterView& view, const std::map<std::string, policy::AddressPlan>& plans,
                         const std::map<std::string, std::pair<bool, std::string>>& mine) {
  if (records_ == nullptr) return;
  std::map<std::string, const policy::ServiceInfo*> services;
  for (const auto& s : view.services) services[s->key] = s.get();
  // Our records: an address we announce and the plan gives us (not one we are handing over:
  // the new owner writes it), one per Service.
  DesiredRecords desired;
  std::map<std::vector<std::string>, std::shared_ptr<const ClaimInterfaces>> interfacesOf;
  std::map<std::string, ClaimNote> notes;
  std::map<std::string, std::vector<std::string>> claimed;
  {
    std::lock_guard lock(mutex_);
    claimed = handover_.claimed();
    notes = claimNotes_;
  }
  auto thisSecond = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  for (const auto& [address, patterns] : claimed) {
    auto plan = plans.find(address);
    if (plan == plans.end() || plan->second.owner() != options_.nodeName) continue;
    auto [known, fresh] = interfacesOf.try_emplace(patterns);
    if (fresh) {
      ClaimInterfaces up;
      auto selector = k8s::InterfaceSelector::create(patterns);
      for (const auto& [name, state] : mine) {
        if (state.first && selector && selector->matches(name)) up.emplace_back(name, state.second);
      }
      known->second = std::make_shared<const ClaimInterfaces>(std::move(up));
    }
    auto note = notes.find(address);
    auto claim = std::make_shared<const Claim>(Claim{.address = address,
                                                     .interfaces = known->second,
                                                     .since = note == notes.end() ? thisSecond : note->second.since,
                                                     .cause = note == notes.end() ? "plan" : note->second.cause});
    for (const std::string& key : plan->second.services) {
      auto service = services.find(key);
      auto slash = key.find('/');
      std::string name = key.substr(0, slash) + "/" + recordName(key.substr(slash + 1), address);
      desired[name] = wantRecord(key, service == services.end() ? "" : service->second->uid.str(), options_.nodeName, claim);
    }
  }
  records_->setRecords(std::move(desired));

  // The Announced condition of every Service a policy selects, and of those still carrying it:
  // each written by one live node (rendezvous hashing), as the policies' conditions are.
  std::vector<policy::Candidate> live;
  for (const auto& n : view.nodes) {
    if (n.live && (!n.interfaces || !n.interfaces->empty())) live.push_back({n.name, 1.0});
  }
  std::map<std::string, std::vector<const policy::PlannedAddress*>> plansOf;
  for (const auto& planned : plans) {
    for (const std::string& key : planned.second.services) plansOf[key].push_back(&planned);
  }
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, condition] : withCondition_) plansOf.try_emplace(key);
  }
  std::string now = common::rfc3339();
  for (const auto& [key, ofService] : plansOf) {
    if (policy::chooseOwner("service/" + key, live) != options_.nodeName) continue;
    if (!services_->contains(key)) continue;
    std::optional<StoredCondition> stored;
    {
      std::lock_guard lock(mutex_);
      if (auto it = withCondition_.find(key); it != withCondition_.end()) stored = it->second;
    }
    Json patch = conditionPatch(stored, announcedCondition(ofService), now);
    if (!patch.is_null()) records_->writeCondition(key, std::move(patch));
  }
}

namespace {
// The conditions one agent writes on every policy: each of its problems, or that it has none.
constexpr const char* kPolicyConditionTypes[] = {"InvalidServiceSelector", "InvalidNodeSelector", "InvalidInterfaces",
                                                 "MalformedObject"};
}  // namespace

void Agent::writePolicyStatuses(const policy::ClusterView& view) {
  // One writer per policy: the live node rendezvous hashing picks for it, among nodes whose
  // agents publish their interfaces (a Lease held by something else writes nothing).
  std::vector<policy::Candidate> live;
  for (const auto& n : view.nodes) {
    if (n.live && (!n.interfaces || !n.interfaces->empty())) live.push_back({n.name, 1.0});
  }
  for (size_t i = 0; i < policies_.size(); ++i) {
    // MetalLB's L2Advertisements are MetalLB's kind: no status of ours is written on them.
    if (policyKinds_[i].group == policy::kGroupMetallb) continue;
    for (const Json& object : policies_[i]->items()) {
      policy::L2Policy p = policy::parsePolicy(object, policyKinds_[i].group);
      if (policy::chooseOwner("policy/" + p.key, live) != options_.nodeName) continue;
      Json conditions = Json::array();
      for (const char* type : kPolicyConditionTypes) {
        auto e = std::find_if(p.errors.begin(), p.errors.end(), [&](const auto& x) { return x.first == type; });
        conditions.push_back({{"type", type},
                              {"status", e == p.errors.end() ? "False" : "True"},
                              {"reason", e == p.errors.end() ? "Valid" : "Invalid"},
                              {"message", e == p.errors.end() ? "" : e->second},
                              {"lastTransitionTime", common::rfc3339()}});
      }
      std::string signature = p.key;
      for (const auto& c : conditions) signature += c.value("status", "") + c.value("message", "");
      // Whatever the stored conditions hold (any field may have any type), compared as text.
      Json status = object.value("status", Json::object());
      Json current = status.is_object() ? status.value("conditions", Json::array()) : Json::array();
      std::string currentSignature = p.key;
      for (const char* type : kPolicyConditionTypes) {
        for (const auto& c : current.is_array() ? current : Json::array()) {
          if (!c.is_object() || c.value("type", Json()) != Json(type)) continue;
          Json cs = c.value("status", Json("")), cm = c.value("message", Json(""));
          currentSignature += (cs.is_string() ? cs.get<std::string>() : cs.dump()) +
                              (cm.is_string() ? cm.get<std::string>() : cm.dump());
        }
      }
      if (signature == currentSignature) continue;
      auto r = writer_.patch(policyKinds_[i].resource, "", p.name, {{"status", {{"conditions", conditions}}}}, "status");
      if (r) spdlog::info("event=policy_status policy={} valid={}", p.key, p.valid());
    }
  }
}

// A Service Event per address and Service, unless one pass starts or stops more than
// kServiceEventsPerPass (a mass take-over: thousands of Services at once would be thousands of
// Events in a burst): then one Event on this node's Node says how many, and why.
void Agent::emitEvents(const std::vector<std::tuple<std::string, std::string, std::string>>& events, size_t started,
                       size_t stopped, const std::map<std::string, uint64_t>& causes) {
  std::map<std::string, size_t> perReason;
  for (const auto& [svc, reason, message] : events) ++perReason[reason];
  // A Node's Events carry its name as uid, as the kubelet's do: what `kubectl describe node` looks for.
  kube::InvolvedObject node{"v1", "Node", "", options_.nodeName, options_.nodeName};
  for (const auto& [reason, count] : perReason) {
    if (count <= kServiceEventsPerPass) {
      for (const auto& [svc, r, message] : events) {
        if (r == reason) event(svc, "Normal", r, message);
      }
    } else if (reason == "AnnouncementStarted") {
      std::vector<std::string> why;
      for (const auto& [cause, n] : causes) why.push_back(fmt::format("{} {}", n, cause));
      events_->record(node, "Normal", "AnnouncementsStarted",
                      fmt::format("node {} started announcing {} addresses of {} Services at once (previous owner lost them: {})",
                                  options_.nodeName, started, count, fmt::join(why, ", ")));
    } else {
      events_->record(node, "Normal", "AnnouncementsStopped",
                      fmt::format("node {} stopped announcing {} addresses of {} Services at once", options_.nodeName,
                                  stopped, count));
    }
  }
}

void Agent::event(const std::string& serviceKey, const std::string& type, const std::string& reason,
                  const std::string& message) {
  auto slash = serviceKey.find('/');
  kube::InvolvedObject involved{"v1", "Service", serviceKey.substr(0, slash), serviceKey.substr(slash + 1), ""};
  involved.uid = index_.uidOf(serviceKey);
  events_->record(involved, type, reason, message);
}

void Agent::run(const std::atomic<bool>& stop) {
  // Before the first plan: every object read, and who holds what (a node just started must
  // not pull back what another kept meanwhile).
  auto allSynced = [this] {
    for (kube::Informer* i : informers()) {
      if (!i->synced()) return false;
    }
    return records_ == nullptr || records_->ready();
  };
  while (!stop.load() && !allSynced()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  while (!stop.load()) {
    Steady::time_point until;
    {
      std::lock_guard lock(mutex_);
      until = std::min(Steady::now() + options_.resyncPeriod,
                       nextExpiry_ == Steady::time_point::max() ? Steady::time_point::max()
                                                                : nextExpiry_ + std::chrono::milliseconds(5));
      if (auto giveUp = handover_.nextGiveUp()) until = std::min(until, *giveUp);
    }
    {
      // Periodic as well as on change: reconciliation never depends on one event arriving.
      std::unique_lock lock(inbox_);
      changed_.wait_until(lock, until, [&] { return dirty_ || stop.load(); });
      if (stop.load()) break;
      // Woken by a change, it happened when it was reported; by the clock (a Lease expiring),
      // now.
      passWokenAt_ = dirty_ ? dirtySince_ : Steady::now();
      dirty_ = false;
    }
    reconcile();
    // Busy for long (thousands of records written after a start, each moving the plan): the
    // plans' temporaries go back to the system every kBusyTrimPeriod all the same.
    if (trimPending_ && Steady::now() - lastTrim_ >= kBusyTrimPeriod) {
      malloc_trim(0);
      lastTrim_ = Steady::now();
      trimPending_ = false;
    }
  }
}

Agent::~Agent() {
  {
    std::lock_guard lock(plannerMutex_);
    plannerStop_ = true;
  }
  plannerWake_.notify_all();
  if (planner_.joinable()) planner_.join();
}

void Agent::onPlanner(const std::function<void()>& task) {
  std::unique_lock lock(plannerMutex_);
  if (!planner_.joinable()) {
    planner_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "planner");
      std::unique_lock lock(plannerMutex_);
      while (true) {
        plannerWake_.wait(lock, [this] { return plannerStop_ || plannerTask_ != nullptr; });
        if (plannerStop_) return;
        const std::function<void()>* task = plannerTask_;
        lock.unlock();
        std::exception_ptr failure;
        try {
          (*task)();
        } catch (...) {
          failure = std::current_exception();  // rethrown on the caller's thread
        }
        lock.lock();
        plannerFailure_ = failure;
        plannerTask_ = nullptr;
        plannerWake_.notify_all();
      }
    });
  }
  plannerTask_ = &task;
  plannerWake_.notify_all();
  plannerWake_.wait(lock, [this] { return plannerTask_ == nullptr; });
  if (auto failure = std::exchange(plannerFailure_, nullptr)) std::rethrow_exception(failure);
}

void Agent::shutdown() {
  auto started = Steady::now();
  shuttingDown_ = true;
  {
    std::lock_guard lock(inbox_);
    claimsAheadUntil_ = {};  // the packet thread claims nothing more on a silence
  }
  // Every address is handed over from now on: answered without Override (responder.h), from
  // before the others can see the Lease go and announce.
  std::vector<std::string> handingOver;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [address, scope] : handover_.claimed()) handingOver.push_back(address);
  }
  for (const auto& address : handingOver) responder_.setYielding(*packet::parseIpAddress(address), true);
  // Hand over before stopping: release the node Lease first so the others take over now, and
  // keep answering until each address is announced by another node (make before break) or
  // kHandoverTimeout passes. Not under the lock: the elector's callbacks take it.
  if (auto r = lease_->release(); !r) {
    spdlog::warn("event=lease_release_failed error=\"{}\"", r.error().message);
  } else {
    spdlog::info("event=node_lease_released node={}", options_.nodeName);
  }
  auto announcedElsewhere = [&](const std::string& address) { return handover_.foreignSeenSince(address, started); };
  auto allHandedOver = [&] {
    takeInbox();
    std::lock_guard lock(mutex_);
    const auto& claimed = handover_.claimed();
    return std::all_of(claimed.begin(), claimed.end(), [&](const auto& c) { return announcedElsewhere(c.first); });
  };
  while (!allHandedOver() && Steady::now() < started + kHandoverTimeout) {
    std::unique_lock lock(inbox_);
    changed_.wait_until(lock, started + kHandoverTimeout, [&] { return !reported_.empty(); });
  }
  std::vector<std::pair<std::string, bool>> released;
  takeClaimedOnSilence();
  {
    std::lock_guard lock(mutex_);
    for (const auto& [address, scope] : handover_.claimed()) released.emplace_back(address, announcedElsewhere(address));
    // Claimed on a silence and never confirmed by a plan: answered here all the same.
    for (const auto& [address, patterns] : claimedAhead_) {
      if (!handover_.claimed().count(address)) released.emplace_back(address, false);
    }
    claimedAhead_.clear();
    handover_.releaseAll();
    claimNotes_.clear();
    status_.announced.clear();
  }
  for (const auto& [address, handedOver] : released) {
    responder_.release(*packet::parseIpAddress(address));
    spdlog::info("event=released address={} node={} reason=shutdown handed_over={}", address, options_.nodeName,
                 handedOver);
  }
}

}  // namespace l2a::agent

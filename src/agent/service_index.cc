#include "agent/service_index.h"

#include "k8s/label_selector.h"
#include "k8s/object_meta.h"

namespace l2a::agent {

using Json = nlohmann::json;

std::pair<std::string, std::set<std::string>> readyEndpointNodes(const Json& slice) {
  std::string service = k8s::labelsOf(slice)["kubernetes.io/service-name"];
  if (service.empty()) return {};
  std::set<std::string> nodes;
  auto endpoints = slice.is_object() ? slice.find("endpoints") : slice.end();
  if (endpoints != slice.end() && endpoints->is_array()) {
    for (const Json& e : *endpoints) {
      if (!e.is_object()) continue;
      auto conditions = e.find("conditions");
      Json ready = conditions != e.end() && conditions->is_object() ? conditions->value("ready", Json(true)) : Json(true);
      auto node = e.find("nodeName");
      if (ready == Json(true) && node != e.end() && node->is_string() && !node->get<std::string>().empty()) {
        nodes.insert(node->get<std::string>());
      }
    }
  }
  return {k8s::namespaceOf(slice) + "/" + service, std::move(nodes)};
}

bool ServiceIndex::serviceSeen(const Json& service) {
  policy::ServiceInfo info = policy::serviceInfoFrom(service, classes_);
  // A Service no policy can announce (another type or class: most of a cluster's) keeps only
  // what names it and its problem: plans pass it by, so nothing else of it is a change.
  if (!info.handled) {
    policy::ServiceInfo named{.key = std::move(info.key), .uid = std::move(info.uid)};
    named.setProblem(info.problem());
    info = std::move(named);
  }
  std::lock_guard lock(mutex_);
  if (info.handled && info.local) info.setReadyEndpointNodes(readyNodesOf(info.key));
  auto [it, added] = services_.try_emplace(info.key);
  if (!added && *it->second == info) return false;
  it->second = std::make_shared<const policy::ServiceInfo>(std::move(info));
  ++madeSinceCompact_;
  changed(it->first);
  return true;
}

size_t ServiceIndex::compact(size_t threshold) {
  std::lock_guard lock(mutex_);
  if (madeSinceCompact_ < threshold) return 0;
  madeSinceCompact_ = 0;
  // Every copy made before any old info is freed: freed one at a time, each would go to this
  // thread's malloc cache and be the very block the next copy takes — every info copied into
  // its predecessor's place, on the informer's heap still (found from gdb: after a compaction,
  // an agent's infos were where the informer had made them).
  std::vector<std::shared_ptr<const policy::ServiceInfo>> old;
  old.reserve(services_.size());
  for (auto& [key, info] : services_) {
    old.push_back(std::move(info));
    info = std::make_shared<const policy::ServiceInfo>(*old.back());
  }
  return old.size();
}

bool ServiceIndex::serviceGone(const Json& service) {
  std::lock_guard lock(mutex_);
  // Keyed as serviceInfoFrom keys it: "namespace/name".
  std::string key = k8s::namespaceOf(service) + "/" + k8s::nameOf(service);
  if (services_.erase(key) == 0) return false;
  changed(key);
  return true;
}

std::set<std::string> ServiceIndex::readyNodesOf(const std::string& service) const {
  std::set<std::string> out;
  auto ready = ready_.find(service);
  if (ready == ready_.end()) return out;
  for (const auto& [slice, nodes] : ready->second) out.insert(nodes.begin(), nodes.end());
  return out;
}

// Whether a plan may read the Service's ready nodes: a LoadBalancer of ours with
// externalTrafficPolicy: Local, or one not seen yet (slices may come before their Service).
bool ServiceIndex::readsReadyNodes(const std::string& service) const {
  if (service.empty()) return false;
  auto it = services_.find(service);
  return it == services_.end() || (it->second->handled && it->second->local);
}

void ServiceIndex::refreshReady(const std::string& service) {
  auto it = services_.find(service);
  if (it == services_.end() || !it->second->handled || !it->second->local) return;
  auto info = std::make_shared<policy::ServiceInfo>(*it->second);
  info->setReadyEndpointNodes(readyNodesOf(service));
  it->second = std::move(info);
  changed(service);
}

void ServiceIndex::changed(const std::string& key) {
  if (changed_) changed_->insert(key);
}

std::vector<std::shared_ptr<const policy::ServiceInfo>> ServiceIndex::servicesAndChanges(
    std::optional<std::set<std::string>>& changed) {
  std::lock_guard lock(mutex_);
  changed = std::exchange(changed_, std::set<std::string>{});
  return listed();
}

bool ServiceIndex::setSlice(const std::string& sliceKey, const std::string& service, std::set<std::string> nodes) {
  // What it said before (nothing when new): its Service and the nodes of its ready endpoints.
  std::string before;
  std::set<std::string> had;
  if (auto owner = sliceOwner_.find(sliceKey); owner != sliceOwner_.end()) {
    before = owner->second;
    auto& ofService = ready_[before];
    had = std::move(ofService[sliceKey]);
    ofService.erase(sliceKey);
    if (ofService.empty()) ready_.erase(before);
    sliceOwner_.erase(owner);
  }
  // Relabelled to another Service, it matters only when it had or has ready endpoints.
  bool changed = before != service ? !(had.empty() && nodes.empty()) : had != nodes;
  if (!service.empty()) {
    sliceOwner_[sliceKey] = service;
    ready_[service][sliceKey] = std::move(nodes);
  }
  if (changed) {
    refreshReady(before);
    if (service != before) refreshReady(service);
  }
  // The ready nodes are kept for every Service (one may become a Local LoadBalancer, or come
  // after its slices), but a plan reads them only of a Local LoadBalancer of ours.
  return changed && (readsReadyNodes(before) || readsReadyNodes(service));
}

bool ServiceIndex::sliceSeen(const Json& slice) {
  auto [service, nodes] = readyEndpointNodes(slice);
  std::lock_guard lock(mutex_);
  return setSlice(k8s::keyOf(slice), service, std::move(nodes));
}

bool ServiceIndex::sliceGone(const Json& slice) {
  std::lock_guard lock(mutex_);
  return setSlice(k8s::keyOf(slice), "", {});
}

std::vector<std::shared_ptr<const policy::ServiceInfo>> ServiceIndex::services() const {
  std::lock_guard lock(mutex_);
  return listed();
}

std::vector<std::shared_ptr<const policy::ServiceInfo>> ServiceIndex::listed() const {
  std::vector<std::shared_ptr<const policy::ServiceInfo>> out;
  out.reserve(services_.size());
  for (const auto& [key, info] : services_) out.push_back(info);
  return out;
}

size_t ServiceIndex::size() const {
  std::lock_guard lock(mutex_);
  return services_.size();
}

std::string ServiceIndex::uidOf(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = services_.find(key);
  return it == services_.end() ? "" : it->second->uid.str();
}

}  // namespace l2a::agent

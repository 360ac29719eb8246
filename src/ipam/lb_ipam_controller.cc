#include "ipam/lb_ipam_controller.h"

#include "common/timestamps.h"
#include "ipam/status_patches.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace l2a::ipam {
using Json = nlohmann::json;

namespace {

// Only what the operator reads of each Service is cached (operatorServiceFields).
kube::Informer::Options serviceInformerOptions() {
  kube::Informer::Options options;
  options.transform = [](const Json& service) { return k8s::project(service, operatorServiceFields()); };
  return options;
}

}  // namespace

Result<std::vector<PoolKind>> discoverPoolKinds(kube::Client& client, bool followCilium) {
  std::vector<PoolKind> kinds{{{"l2announcer.io", "v1alpha1", "loadbalancerippools", false, "LoadBalancerIPPool"},
                               "l2announcer.io"}};
  // MetalLB's kind: followed whether served now or not (an optional informer looks again).
  kinds.push_back({kube::resources::kMetallbAddressPools, "metallb.io", true});
  if (!followCilium) return kinds;
  // Cilium's: v2 where served, else v2alpha1 (served by every Cilium with LB-IPAM, and what a CRD
  // installed later is read through).
  kube::Resource cilium{"cilium.io", "v2", "ciliumloadbalancerippools", false, "CiliumLoadBalancerIPPool"};
  auto listed = client.list(cilium, "", {.limit = 1});
  // Only a 404 means "not served"; a 403 or an outage is an error, never a missing kind.
  if (!listed && listed.error().code != kube::ApiErrorCodes::kNotFound) return fail(listed.error());
  if (!listed) cilium.version = "v2alpha1";
  kinds.push_back({cilium, "cilium.io", true});
  return kinds;
}

LbIpamController::LbIpamController(kube::Client& client, std::vector<PoolKind> poolKinds,
                                   std::function<bool()> mayWrite, k8s::LoadBalancerClasses classes)
    : client_(client),
      poolKinds_(std::move(poolKinds)),
      mayWrite_(std::move(mayWrite)),
      classes_(classes),
      events_(client, kube::EventRecorder::Options{.component = "l2a-operator"}) {
  auto onSynced = [this] {
    std::lock_guard lock(mutex_);
    importPending_ = true;
    poolsDirty_ = true;
    wake_.notify_one();
  };
  auto dirtyService = [this](const Json& o) {
    std::lock_guard lock(mutex_);
    dirty_.insert(k8s::keyOf(o));
    wake_.notify_one();
  };
  services_ = std::make_unique<kube::Informer>(
      client_, kube::resources::kServices, "",
      kube::InformerHandlers{.onAdd = dirtyService,
                             .onUpdate = [dirtyService](const Json&, const Json& n) { dirtyService(n); },
                             .onDelete = dirtyService,
                             .onSynced = onSynced,
                             .oldObjectUnused = true},
      serviceInformerOptions());
  auto dirtyPools = [this](const Json&) {
    std::lock_guard lock(mutex_);
    poolsDirty_ = true;
    wake_.notify_one();
  };
  // MetalLB's namespaceSelectors read the Namespaces' labels (and nothing else of them).
  auto dirtyNamespace = [this](const Json& n) {
    std::lock_guard lock(mutex_);
    namespacesDirty_.insert(k8s::nameOf(n));
    wake_.notify_one();
  };
  kube::Informer::Options namespaceOptions;
  namespaceOptions.transform = [](const Json& n) { return k8s::project(n, {{"metadata", "labels"}}); };
  namespaces_ = std::make_unique<kube::Informer>(
      client_, kube::resources::kNamespaces, "",
      kube::InformerHandlers{.onAdd = dirtyNamespace,
                             .onUpdate = [dirtyNamespace](const Json&, const Json& n) { dirtyNamespace(n); },
                             .onDelete = dirtyNamespace,
                             .oldObjectUnused = true},
      namespaceOptions);
  for (const PoolKind& kind : poolKinds_) {
    kube::Informer::Options options;
    options.optional = kind.optional;
    pools_.push_back(std::make_unique<kube::Informer>(
        client_, kind.resource, "",
        kube::InformerHandlers{.onAdd = dirtyPools,
                               // Our own status writes do not change a pool's generation.
                               .onUpdate = [dirtyPools](const Json& o, const Json& n) {
                                 if (o["metadata"].value("generation", 0) != n["metadata"].value("generation", 0) ||
                                     o.value("spec", Json()) != n.value("spec", Json())) {
                                   dirtyPools(n);
                                 }
                               },
                               .onDelete = dirtyPools,
                               .onSynced = onSynced},
        options));
  }
}

std::vector<kube::Informer*> LbIpamController::informers() {
  std::vector<kube::Informer*> out{services_.get(), namespaces_.get()};
  for (auto& p : pools_) out.push_back(p.get());
  return out;
}

bool LbIpamController::synced() const {
  if (!services_->synced() || !namespaces_->synced()) return false;
  for (const auto& p : pools_) {
    if (!p->synced()) return false;
  }
  return true;
}

ControllerStats LbIpamController::stats() const {
  auto sent = events_.stats();
  std::lock_guard lock(mutex_);
  ControllerStats out = stats_;
  out.events = sent.created + sent.aggregated;
  out.eventsDropped = sent.rateLimited + sent.queueFull;
  out.writeFailures += sent.failed;
  return out;
}

void LbIpamController::markAll() {
  std::lock_guard lock(mutex_);
  services_->forEach([this](const Json& s) { dirty_.insert(k8s::keyOf(s)); });
}

void LbIpamController::importAll() {
  // Addresses Services already hold come back first, so nothing new can take them.
  services_->forEach([this](const Json& s) { allocator_.reconcile(request(s), false); });
}

ServiceRequest LbIpamController::request(const Json& service) const {
  ServiceRequest r = parseService(service, classes_);
  if (auto ns = namespaces_->get(r.ns)) r.namespaceLabels = k8s::labelsOf(*ns);
  return r;
}

void LbIpamController::run(const std::atomic<bool>& stop) {
  while (!stop.load() && !synced()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  while (!stop.load()) {
    bool pools, import;
    std::set<std::string> dirty, namespaces;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(500),
                     [&] { return poolsDirty_ || importPending_ || !dirty_.empty() || !namespacesDirty_.empty() ||
                                  stop.load(); });
      pools = std::exchange(poolsDirty_, false);
      namespaces = std::exchange(namespacesDirty_, {});
      import = std::exchange(importPending_, false);
      dirty = std::exchange(dirty_, {});
    }
    if (stop.load()) break;
    if (pools) {
      std::vector<Pool> parsed;
      for (size_t i = 0; i < pools_.size(); ++i) {
        for (const Json& p : pools_[i]->items()) parsed.push_back(parsePool(p, poolKinds_[i].group));
      }
      allocator_.setPools(std::move(parsed));
      // A pool change can change which pool selects any Service: look at all of them.
      services_->forEach([&dirty](const Json& s) { dirty.insert(k8s::keyOf(s)); });
    }
    // A Namespace's labels changed: its Services, where some pool selects namespaces by label.
    bool byNamespaceLabels = std::any_of(allocator_.pools().begin(), allocator_.pools().end(),
                                         [](const Pool& p) { return !p.namespaceSelectors.empty(); });
    if (!namespaces.empty() && byNamespaceLabels) {
      services_->forEach([&](const Json& s) {
        if (namespaces.count(k8s::namespaceOf(s))) dirty.insert(k8s::keyOf(s));
      });
    }
    if (import) importAll();
    for (const std::string& key : dirty) reconcileService(key);
    if (pools || !dirty.empty()) writePoolStatuses();
  }
}

void LbIpamController::reconcileService(const std::string& key) {
  auto object = services_->get(key);
  {
    std::lock_guard lock(mutex_);
    ++stats_.reconciles;
  }
  if (!object) {
    allocator_.forget(key);
    return;
  }
  AllocationResult result = allocator_.reconcile(request(*object));
  writeServiceStatus(*object, result);
}

void LbIpamController::writeServiceStatus(const Json& service, const AllocationResult& result) {
  Json patch = serviceStatusPatch(service, result, common::rfc3339());
  if (patch.is_null()) return;
  if (!allowedToWrite()) return;
  // Only over the version this decision was made from: another replica's write in between
  // makes this one fail (409) instead of overwriting it unseen.
  patch["metadata"] = {{"resourceVersion", service["metadata"].value("resourceVersion", "")}};
  auto written = client_.patch(kube::resources::kServices, k8s::namespaceOf(service), k8s::nameOf(service),
                               patch, "status");
  {
    std::lock_guard lock(mutex_);
    ++(written ? stats_.serviceStatusWrites : stats_.writeFailures);
  }
  if (!written) {
    spdlog::warn("event=status_write_failed service={} error=\"{}\"", k8s::keyOf(service), written.error().message);
    return;
  }
  std::vector<std::string> texts;
  for (const Address& a : result.addresses) texts.push_back(a.toString());
  spdlog::info("event=service_addresses service={} addresses=\"{}\" reason={}", k8s::keyOf(service),
               fmt::join(texts, ","), result.handled ? result.reason : "released");
  if (ingressAddresses(service) == texts && conditionReason(service, kConditionType) == result.reason) return;
  if (!result.handled) {
    event(service, "Normal", "IPReleased", "LoadBalancer addresses released: the Service is no longer handled");
  } else if (result.satisfied) {
    event(service, "Normal", "IPAllocated", result.message);
  } else {
    event(service, "Warning", "IPAllocationFailed", fmt::format("{}: {}", result.reason, result.message));
  }
}

std::vector<LbIpamController::PoolCounts> LbIpamController::poolStatuses() const {
  std::lock_guard lock(mutex_);
  return poolCounts_;
}

void LbIpamController::writePoolStatuses() {
  std::vector<PoolCounts> counts;
  for (const Pool& pool : allocator_.pools()) {
    PoolStatus s = allocator_.poolStatus(pool.key);
    counts.push_back({pool.key, static_cast<double>(s.total), static_cast<double>(s.used)});
  }
  {
    std::lock_guard lock(mutex_);
    poolCounts_ = std::move(counts);
  }
  for (size_t i = 0; i < pools_.size(); ++i) {
    // MetalLB's pools are MetalLB's kind: their status is not written (its CRD has no field for
    // our conditions); explain shows what is wrong with one.
    if (poolKinds_[i].group == "metallb.io") continue;
    for (const Json& object : pools_[i]->items()) {
      Pool pool = parsePool(object, poolKinds_[i].group);
      PoolStatus s = allocator_.poolStatus(pool.key);
      Json patch = poolStatusPatch(object, poolKinds_[i].group, pool, s, common::rfc3339());
      if (patch.is_null()) continue;
      if (!allowedToWrite()) return;
      patch["metadata"] = {{"resourceVersion", object["metadata"].value("resourceVersion", "")}};
      bool newlyInvalid = !pool.errors.empty() &&
                          object.value("status", Json::object()).dump().find("InvalidBlocks") == std::string::npos;
      auto written = client_.patch(poolKinds_[i].resource, "", pool.name, patch, "status");
      {
        std::lock_guard lock(mutex_);
        if (written) ++stats_.poolStatusWrites; else ++stats_.writeFailures;
      }
      if (newlyInvalid) event(object, "Warning", "InvalidBlocks", fmt::format("{}", fmt::join(pool.errors, "; ")));
    }
  }
}

bool LbIpamController::allowedToWrite() {
  if (mayWrite_()) return true;
  std::lock_guard lock(mutex_);
  ++stats_.writesSkipped;
  return false;
}

void LbIpamController::event(const Json& object, const std::string& type, const std::string& reason,
                             const std::string& message) {
  if (!allowedToWrite()) return;
  kube::InvolvedObject involved = kube::InvolvedObject::of(object);
  if (involved.apiVersion.empty()) involved.apiVersion = "v1";
  events_.record(involved, type, reason, message);
}

}  // namespace l2a::ipam

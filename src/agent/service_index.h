// ServiceIndex: what a plan reads of every Service and EndpointSlice (policy::ServiceInfo, with
// the nodes of its ready endpoints), kept per object as the informers' events come — a plan
// shares ready-made, immutable structs instead of unpacking 10,000 cached objects, and an event
// that changes nothing a plan reads (a condition written, an endpoint's address) says so.
// Owned by the agent; thread-safe (the informers' threads write, the reconcile thread reads).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/flat_map.h"
#include "k8s/load_balancer_class.h"
#include "policy/assignment.h"

namespace l2a::agent {

// The Service an EndpointSlice belongs to ("namespace/name", "" when unlabelled) and the nodes
// of its ready endpoints (unset `ready` means ready; anything but a boolean is not).
std::pair<std::string, std::set<std::string>> readyEndpointNodes(const nlohmann::json& slice);

class ServiceIndex {
 public:
  explicit ServiceIndex(k8s::LoadBalancerClasses classes) : classes_(std::move(classes)) {}

  // Each returns whether what a plan reads changed.
  bool serviceSeen(const nlohmann::json& service);
  bool serviceGone(const nlohmann::json& service);
  bool sliceSeen(const nlohmann::json& slice);
  bool sliceGone(const nlohmann::json& slice);

  // Every Service in key order, readyEndpointNodes filled in from its slices (shared: a plan
  // holding them keeps what it read, whatever changes meanwhile).
  std::vector<std::shared_ptr<const policy::ServiceInfo>> services() const;
  // The same, and the keys of the Services added, changed or removed since the last call (what
  // policy::Planner plans again), taken in one step with them; nullopt the first time.
  std::vector<std::shared_ptr<const policy::ServiceInfo>> servicesAndChanges(std::optional<std::set<std::string>>& changed);
  size_t size() const;
  // The uid of the Service KEY names ("" when not known).
  std::string uidOf(const std::string& key) const;
  // Once `threshold` infos were made since the last time (a start, a relist), every info is
  // copied afresh on the calling thread, and how many is returned (0: not yet). The infos made
  // during a list lie scattered among the list's freed temporaries on the informer thread's
  // heap, each holding a page; copies made together fill few pages, and the heap trim that
  // follows gives the others back (docs/benchmarks.md).
  size_t compact(size_t threshold);

 private:
  // Caller holds mutex_.
  bool setSlice(const std::string& sliceKey, const std::string& service, std::set<std::string> nodes);
  // Caller holds mutex_. The union of the ready nodes of SERVICE's slices.
  std::set<std::string> readyNodesOf(const std::string& service) const;
  // Caller holds mutex_. SERVICE's info again with its ready nodes now (a slice changed).
  void refreshReady(const std::string& service);
  // Caller holds mutex_. Whether a plan may read SERVICE's ready nodes: a Local LoadBalancer of
  // a class we serve, or one not seen yet.
  bool readsReadyNodes(const std::string& service) const;

  const k8s::LoadBalancerClasses classes_;
  mutable std::mutex mutex_;
  common::FlatMap<std::string, std::shared_ptr<const policy::ServiceInfo>> services_;  // key -> info
  // Service key -> slice key -> the nodes of its ready endpoints; slice key -> Service key.
  std::map<std::string, std::map<std::string, std::set<std::string>>> ready_;
  std::map<std::string, std::string> sliceOwner_;
  size_t madeSinceCompact_ = 0;
  // Caller holds mutex_. Every info in key order.
  std::vector<std::shared_ptr<const policy::ServiceInfo>> listed() const;
  // Caller holds mutex_. KEY's info was made, replaced or erased.
  void changed(const std::string& key);
  std::optional<std::set<std::string>> changed_;  // since servicesAndChanges; nullopt before its first call
};

}  // namespace l2a::agent

// buildClusterView: the snapshot policy::planAddresses works on, from the API objects (Services,
// EndpointSlices, policies, Nodes, node Leases). Shared by the agent (from its informers, with
// liveness judged by its own clock) and `l2a explain` (one-shot, judged by renewTime). Pure.
#pragma once

#include "k8s/load_balancer_class.h"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/assignment.h"

namespace l2a::agent {

// A node labelled l2announcer.io/drain (any value; `l2a drain` sets it) announces nothing, its
// addresses moving make before break until the label goes (`l2a uncordon`).
inline constexpr const char* kDrainLabel = "l2announcer.io/drain";
// Kubernetes' own label for nodes external load balancers must not send traffic to.
inline constexpr const char* kExcludeFromLoadBalancersLabel = "node.kubernetes.io/exclude-from-external-load-balancers";

// Which other nodes announce nothing (agent flags --avoid-excluded-nodes, --avoid-cordoned-nodes;
// every agent must be given the same, and `l2a explain` too).
struct NodeAvoidance {
  bool excluded = true;  // labelled node.kubernetes.io/exclude-from-external-load-balancers
  bool cordoned = true;  // spec.unschedulable (kubectl cordon, kubectl drain)
};

// The annotation KEY of an object when it is a string, else "" (any shape: never an exception).
std::string annotation(const nlohmann::json& object, const char* key);

// A sequence of API objects, visited one at a time: an informer's cache unpacks each as it
// goes, so 10,000 Services never exist as trees at once (kube::Informer::forEach).
using ObjectVisitor = std::function<void(const std::function<void(const nlohmann::json&)>&)>;
// The objects of a vector, for one-shot readers and tests.
ObjectVisitor eachOf(std::vector<nlohmann::json> objects);

struct ViewInputs {
  ObjectVisitor services;  // unset: none
  ObjectVisitor endpointSlices;
  // Ready-made (the agent's ServiceIndex), taken as they are beside `services`.
  std::vector<std::shared_ptr<const policy::ServiceInfo>> serviceInfos;
  std::vector<policy::L2Policy> policies;
  ObjectVisitor nodes;
  // The node's Lease object, if any.
  std::function<std::optional<nlohmann::json>(const std::string& node)> leaseOf;
  // Whether that Lease shows a live holder.
  std::function<bool(const std::string& node, const nlohmann::json& lease)> live;
  k8s::LoadBalancerClasses classes;  // which Services are ours
  NodeAvoidance avoid;               // which nodes no plan uses beside drained ones
};

policy::ClusterView buildClusterView(ViewInputs inputs);

// Lease liveness by its own timestamps (for one-shot readers): holder is the node and
// renewTime + leaseDurationSeconds is in the future of `now`.
bool leaseLiveByTimestamps(const std::string& node, const nlohmann::json& lease,
                           std::chrono::system_clock::time_point now);

}  // namespace l2a::agent

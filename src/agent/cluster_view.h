// buildClusterView: the snapshot policy::planAddresses works on, from the API objects (Services,
// EndpointSlices, policies, Nodes, node Leases). Shared by the agent (from its informers, with
// liveness judged by its own clock) and `l2a explain` (one-shot, judged by renewTime). Pure.
#pragma once

#include "k8s/load_balancer_class.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/assignment.h"

namespace l2a::agent {

struct ViewInputs {
  std::vector<nlohmann::json> services;
  std::vector<nlohmann::json> endpointSlices;
  std::vector<policy::L2Policy> policies;
  std::vector<nlohmann::json> nodes;
  // The node's Lease object, if any.
  std::function<std::optional<nlohmann::json>(const std::string& node)> leaseOf;
  // Whether that Lease shows a live holder.
  std::function<bool(const std::string& node, const nlohmann::json& lease)> live;
  k8s::LoadBalancerClasses classes;  // which Services are ours
};

policy::ClusterView buildClusterView(const ViewInputs& inputs);

// Lease liveness by its own timestamps (for one-shot readers): holder is the node and
// renewTime + leaseDurationSeconds is in the future of `now`.
bool leaseLiveByTimestamps(const std::string& node, const nlohmann::json& lease,
                           std::chrono::system_clock::time_point now);

}  // namespace l2a::agent

// The status the operator writes to Services and pools, as pure functions from the stored object
// and the allocator's answer to the merge patch to send — or null when the stored status already
// says it. Only what the operator owns is compared: a real API server adds fields (ipMode: VIP on
// every ingress since Kubernetes 1.30) and prunes others (Cilium's pool CRD keeps only
// status.conditions), and neither may make the operator rewrite status forever.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ipam/allocator.h"
#include "ipam/pool.h"

namespace l2a::ipam {

inline constexpr const char* kConditionType = "l2announcer.io/IPAMRequestSatisfied";

// The addresses of a Service's status.loadBalancer.ingress, in order ("" for an entry without
// an ip), and the reason of its condition of `type` ("" when none); never throwing.
std::vector<std::string> ingressAddresses(const nlohmann::json& service);
std::string conditionReason(const nlohmann::json& object, const std::string& type);
// Whether a pool's status says it conflicts with another: the PoolConflict condition (Cilium's
// cilium.io/PoolConflict on cilium.io pools) or our kind's `conflicting` field.
bool poolConflicting(const nlohmann::json& pool);

// The patch of a Service's status (ingress + our condition) for `result`; null when unchanged
// or when the Service is not ours to touch. `now` stamps a changed condition (RFC 3339).
nlohmann::json serviceStatusPatch(const nlohmann::json& service, const AllocationResult& result,
                                  const std::string& now);

// The patch of a pool's status: conditions (Cilium's names, cilium.io/IPsTotal and so on, for
// cilium.io pools) and, on our own kind only, the flat fields its printer columns read.
nlohmann::json poolStatusPatch(const nlohmann::json& pool, const std::string& group,
                               const Pool& parsed, const PoolStatus& counts, const std::string& now);

}  // namespace l2a::ipam

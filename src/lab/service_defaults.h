// What kube-apiserver (1.34) fills in on a Service it stores, for the lab API server, so that
// l2a meets the same objects on both: ipFamilyPolicy (SingleStack unless said), ipFamilies (the
// cluster's first family, IPv4, and the other too when dual-stack is asked for), clusterIP(s)
// from 198.19.0.0/20 and 2001:db8:ffff::/112 (the kube lab's service ranges), nodePorts,
// sessionAffinity, traffic policies, allocateLoadBalancerNodePorts, targetPort and protocol of
// ports, an empty status.loadBalancer, and ipMode: VIP on every ingress with an ip. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/result.h"
#include "lab/object_store.h"

namespace l2a::lab {

// The cluster IPs and node ports stored Services hold.
struct TakenByServices {
  std::set<std::string> clusterIps;
  std::set<int> nodePorts;
};
// Adds what `service` holds to `taken`.
void noteTaken(const nlohmann::json& service, TakenByServices& taken);

// `previous`: the stored Service on an update (null on create), whose allocations are kept;
// `taken`: what every stored Service holds.
Result<nlohmann::json, ApiFailure> defaultService(nlohmann::json service, const nlohmann::json& previous,
                                                  const TakenByServices& taken);

// ipMode: VIP on every status.loadBalancer.ingress entry with an ip that has none.
void defaultIngressIpMode(nlohmann::json& service);

}  // namespace l2a::lab

// L2Policy: an L2AnnouncementPolicy (or cilium.io CiliumL2AnnouncementPolicy, or metallb.io
// L2Advertisement) reduced to what the agent decides with — selectors, interface regexes, which
// address kinds (and, for MetalLB's, which pools' addresses) — plus what was wrong with it. Pure
// parse from the object's JSON; a plain value.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ipam/pool.h"
#include "k8s/label_selector.h"
#include "k8s/interface_selector.h"

namespace l2a::policy {

struct L2Policy {
  std::string key;  // group/name
  std::string name;
  k8s::LabelSelector serviceSelector;
  k8s::LabelSelector nodeSelector;
  std::vector<std::string> interfaces;  // regexes, OR-ed; empty = every interface the agent uses
  k8s::InterfaceSelector interfaceSelector;
  bool loadBalancerIPs = false;
  bool externalIPs = false;
  // MetalLB's L2Advertisement with ipAddressPools or ipAddressPoolSelectors: only addresses in
  // these ranges (of the pools it names; none when it names no pool that exists).
  bool addressScoped = false;
  std::vector<ipam::Range> addressRanges;
  // Problems by condition type: InvalidServiceSelector, InvalidNodeSelector, InvalidInterfaces.
  std::vector<std::pair<std::string, std::string>> errors;
  bool valid() const { return errors.empty(); }
  // Whether this policy announces `address` (given the Service is selected).
  bool admits(const std::string& address) const;
  bool operator==(const L2Policy&) const = default;
};

inline constexpr const char* kGroupMetallb = "metallb.io";

// l2announcer.io and cilium.io policies.
L2Policy parsePolicy(const nlohmann::json& object, const std::string& group);

// A metallb.io/v1beta1 L2Advertisement: every Service's load-balancer addresses (of the pools it
// names or selects among `pools`, MetalLB's IPAddressPools, when it names any), from the nodes
// any of its nodeSelectors selects (one policy per selector), on the named interfaces.
std::vector<L2Policy> parseL2Advertisement(const nlohmann::json& object, const std::vector<ipam::Pool>& pools);

// Every policy of one kind's objects (`group`: l2announcer.io, cilium.io or metallb.io, whose
// advertisements read `metallbPools`).
std::vector<L2Policy> parsePolicies(const std::vector<nlohmann::json>& objects, const std::string& group,
                                    const std::vector<ipam::Pool>& metallbPools);

}  // namespace l2a::policy

// Pool: a LoadBalancerIPPool (or cilium.io CiliumLoadBalancerIPPool, or metallb.io IPAddressPool)
// reduced to what allocation needs — address ranges after reservations, which Services it serves,
// disabled — plus what was wrong with it. Pure parse from the object's JSON; a plain value.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ipam/address.h"
#include "k8s/label_selector.h"

namespace l2a::ipam {

struct Range {
  Address first;
  Address last;
  U128 size() const { return last.value - first.value + 1; }
  bool contains(const Address& a) const { return a.v6 == first.v6 && a.value >= first.value && a.value <= last.value; }
  bool overlaps(const Range& o) const {
    return first.v6 == o.first.v6 && first.value <= o.last.value && o.first.value <= last.value;
  }
  bool operator==(const Range&) const = default;
};

struct Pool {
  std::string key;   // "l2announcer.io/NAME", "cilium.io/NAME" or "metallb.io/NAME"
  std::string name;
  std::string ns;    // metallb.io pools are namespaced; the others are not
  std::string creationTimestamp;
  k8s::Labels labels;  // what an L2Advertisement's ipAddressPoolSelectors match
  std::vector<Range> ranges;
  k8s::LabelSelector serviceSelector;
  bool disabled = false;
  // MetalLB's IPAddressPool: autoAssign false gives addresses only to Services that name the pool
  // or ask for one of its addresses; serviceAllocation's priority (lower first, before pools
  // without), namespaces and namespaceSelectors (a Service in any of them), serviceSelectors
  // (any of them); avoidBuggyIPs leaves out IPv4 addresses ending in .0 and .255.
  bool autoAssign = true;
  std::optional<int> priority;
  std::vector<std::string> namespaces;
  std::vector<k8s::LabelSelector> namespaceSelectors;
  std::vector<k8s::LabelSelector> serviceSelectors;
  bool avoidBuggyIps = false;
  std::vector<std::string> errors;  // invalid blocks or selector: shown in the pool's status

  bool contains(const Address& a) const;
  U128 total() const;
};

// `group` is the API group the object came from (l2announcer.io, cilium.io or metallb.io).
Pool parsePool(const nlohmann::json& object, const std::string& group);

// An IPv4 address MetalLB's avoidBuggyIPs leaves out (ending in .0 or .255).
bool buggyAddress(const Address& a);

// "198.18.0.0/24" or "198.18.1.10-198.18.1.20" (spaces allowed around the dash), as MetalLB's
// IPAddressPool writes its addresses; every address of a CIDR is usable. nullopt with `error`.
std::optional<Range> parseAddressRange(const std::string& text, std::string& error);

}  // namespace l2a::ipam

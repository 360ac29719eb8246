// Pool: a LoadBalancerIPPool (or cilium.io CiliumLoadBalancerIPPool) reduced to what allocation
// needs — address ranges after reservations, the service selector, disabled — plus what was
// wrong with it. Pure parse from the object's JSON; a plain value.
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
};

struct Pool {
  std::string key;   // "l2announcer.io/NAME" or "cilium.io/NAME"
  std::string name;
  std::string creationTimestamp;
  std::vector<Range> ranges;
  k8s::LabelSelector serviceSelector;
  bool disabled = false;
  std::vector<std::string> errors;  // invalid blocks or selector: shown in the pool's status

  bool contains(const Address& a) const;
  U128 total() const;
};

// `group` is the API group the object came from (l2announcer.io or cilium.io).
Pool parsePool(const nlohmann::json& object, const std::string& group);

}  // namespace l2a::ipam

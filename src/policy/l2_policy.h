// L2Policy: an L2AnnouncementPolicy (or cilium.io CiliumL2AnnouncementPolicy) reduced to what
// the agent decides with — selectors, interface regexes, which address kinds — plus what was
// wrong with it. Pure parse from the object's JSON; a plain value.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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
  // Problems by condition type: InvalidServiceSelector, InvalidNodeSelector, InvalidInterfaces.
  std::vector<std::pair<std::string, std::string>> errors;
  bool valid() const { return errors.empty(); }
};

L2Policy parsePolicy(const nlohmann::json& object, const std::string& group);

}  // namespace l2a::policy

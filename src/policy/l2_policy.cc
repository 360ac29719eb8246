#include "policy/l2_policy.h"

#include "kube/client.h"

namespace l2a::policy {

namespace {

L2Policy parsePolicyFields(const nlohmann::json& object, const std::string& group) {
  L2Policy p;
  p.name = object.value("metadata", nlohmann::json::object()).value("name", "");
  p.key = group + "/" + p.name;
  const auto& spec = object.value("spec", nlohmann::json::object());
  auto services = k8s::LabelSelector::fromJson(spec.value("serviceSelector", nlohmann::json()));
  if (services) p.serviceSelector = *services; else p.errors.emplace_back("InvalidServiceSelector", services.error().message);
  auto nodes = k8s::LabelSelector::fromJson(spec.value("nodeSelector", nlohmann::json()));
  if (nodes) p.nodeSelector = *nodes; else p.errors.emplace_back("InvalidNodeSelector", nodes.error().message);
  for (const auto& i : spec.value("interfaces", nlohmann::json::array())) {
    if (i.is_string()) p.interfaces.push_back(i);
  }
  auto selector = k8s::InterfaceSelector::create(p.interfaces);
  if (selector) p.interfaceSelector = *selector; else p.errors.emplace_back("InvalidInterfaces", selector.error().message);
  p.loadBalancerIPs = spec.value("loadBalancerIPs", false);
  p.externalIPs = spec.value("externalIPs", false);
  return p;
}

}  // namespace

// A field of the wrong type makes the policy invalid (announcing nothing) with the reason in
// its status, never an exception.
L2Policy parsePolicy(const nlohmann::json& object, const std::string& group) {
  try {
    return parsePolicyFields(object, group);
  } catch (const nlohmann::json::exception& e) {
    L2Policy p;
    p.name = k8s::nameOf(object);
    p.key = group + "/" + p.name;
    p.errors.emplace_back("MalformedObject", e.what());
    return p;
  }
}

}  // namespace l2a::policy

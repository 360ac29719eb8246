#include "policy/l2_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

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

std::vector<L2Policy> parseL2AdvertisementFields(const nlohmann::json& object, const std::vector<ipam::Pool>& pools) {
  L2Policy base;
  base.name = k8s::nameOf(object);
  base.key = std::string(kGroupMetallb) + "/" + base.name;
  base.loadBalancerIPs = true;  // MetalLB announces load-balancer addresses, not externalIPs
  std::string ns = k8s::namespaceOf(object);
  const auto& spec = object.value("spec", nlohmann::json::object());
  // A list field that is not a list makes the advertisement malformed (nothing announced).
  auto list = [&](const char* field) {
    nlohmann::json value = spec.value(field, nlohmann::json::array());
    if (!value.is_array()) throw std::invalid_argument(fmt::format("spec.{} is not a list", field));
    return value;
  };
  for (const auto& i : list("interfaces")) base.interfaces.push_back(k8s::InterfaceSelector::exact(i.get<std::string>()));
  auto selector = k8s::InterfaceSelector::create(base.interfaces);
  if (selector) base.interfaceSelector = *selector; else base.errors.emplace_back("InvalidInterfaces", selector.error().message);
  // Pools by name (in the advertisement's namespace, as MetalLB reads them) or by label.
  const nlohmann::json names = list("ipAddressPools"), poolSelectors = list("ipAddressPoolSelectors");
  std::vector<k8s::LabelSelector> selectors;
  for (const auto& item : poolSelectors) {
    auto s = k8s::LabelSelector::fromJson(item);
    if (s) selectors.push_back(*s); else base.errors.emplace_back("InvalidPoolSelector", "ipAddressPoolSelectors: " + s.error().message);
  }
  base.addressScoped = !names.empty() || !poolSelectors.empty();
  for (const ipam::Pool& pool : pools) {
    if (pool.ns != ns) continue;
    bool named = std::any_of(names.begin(), names.end(), [&](const nlohmann::json& n) { return n.get<std::string>() == pool.name; });
    bool selected = std::any_of(selectors.begin(), selectors.end(), [&](const k8s::LabelSelector& s) { return s.matches(pool.labels); });
    if (named || selected) base.addressRanges.insert(base.addressRanges.end(), pool.ranges.begin(), pool.ranges.end());
  }
  const nlohmann::json nodeSelectors = list("nodeSelectors");
  if (nodeSelectors.empty()) return {base};
  // Any of several node selectors: one policy each (policies that select an address add up).
  std::vector<L2Policy> out;
  for (size_t i = 0; i < nodeSelectors.size(); ++i) {
    L2Policy p = base;
    if (nodeSelectors.size() > 1) p.key += "#" + std::to_string(i + 1);
    auto nodes = k8s::LabelSelector::fromJson(nodeSelectors[i]);
    if (nodes) p.nodeSelector = *nodes; else p.errors.emplace_back("InvalidNodeSelector", nodes.error().message);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

bool L2Policy::admits(const std::string& address) const {
  if (!addressScoped) return true;
  auto a = ipam::Address::parse(address);
  return a && std::any_of(addressRanges.begin(), addressRanges.end(), [&](const ipam::Range& r) { return r.contains(*a); });
}

std::vector<L2Policy> parseL2Advertisement(const nlohmann::json& object, const std::vector<ipam::Pool>& pools) {
  try {
    return parseL2AdvertisementFields(object, pools);
  } catch (const std::exception& e) {  // a json type error, or a list that is not one
    L2Policy p;
    p.name = k8s::nameOf(object);
    p.key = std::string(kGroupMetallb) + "/" + p.name;
    p.errors.emplace_back("MalformedObject", e.what());
    return {p};
  }
}

std::vector<L2Policy> parsePolicies(const std::vector<nlohmann::json>& objects, const std::string& group,
                                    const std::vector<ipam::Pool>& metallbPools) {
  std::vector<L2Policy> out;
  for (const auto& o : objects) {
    if (group == kGroupMetallb) {
      for (auto& p : parseL2Advertisement(o, metallbPools)) out.push_back(std::move(p));
    } else {
      out.push_back(parsePolicy(o, group));
    }
  }
  return out;
}

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

#include "lab/service_defaults.h"

#include <fmt/format.h>

#include <cstdint>
#include <set>

namespace l2a::lab {
namespace {

using Json = nlohmann::json;

// In place, never a copy: every Service is read on each Service write (noteTaken), and copying
// their specs made creating 10,000 Services take ten minutes.
const Json& at(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

ApiFailure invalid(const Json& service, const std::string& detail) {
  std::string name = at(at(service, "metadata"), "name").is_string() ? at(at(service, "metadata"), "name").get<std::string>() : "";
  return {422, "Invalid", fmt::format("Service \"{}\" is invalid: {}", name, detail)};
}

std::string clusterAddress(bool v6, int n) {
  return v6 ? fmt::format("2001:db8:ffff::{:x}", n) : fmt::format("198.19.{}.{}", n / 256, n % 256);
}

}  // namespace

void defaultIngressIpMode(Json& service) {
  if (!service.is_object() || !service.contains("status") || !service["status"].is_object()) return;
  Json& status = service["status"];
  if (!status.contains("loadBalancer") || !status["loadBalancer"].is_object()) return;
  Json& lb = status["loadBalancer"];
  if (!lb.contains("ingress") || !lb["ingress"].is_array()) return;
  for (Json& i : lb["ingress"]) {
    if (i.is_object() && i.contains("ip") && !i.contains("ipMode")) i["ipMode"] = "VIP";
  }
}

void noteTaken(const Json& service, TakenByServices& taken) {
  const Json& ips = at(at(service, "spec"), "clusterIPs");
  if (ips.is_array()) {
    for (const Json& ip : ips) if (ip.is_string()) taken.clusterIps.insert(ip.get<std::string>());
  }
  const Json& ports = at(at(service, "spec"), "ports");
  if (ports.is_array()) {
    for (const Json& p : ports) {
      if (at(p, "nodePort").is_number_integer()) taken.nodePorts.insert(at(p, "nodePort").get<int>());
    }
  }
}

Result<Json, ApiFailure> defaultService(Json service, const Json& previous, const TakenByServices& taken) {
  if (!service.contains("spec") || !service["spec"].is_object()) service["spec"] = Json::object();
  Json& spec = service["spec"];
  const Json before = at(previous, "spec");
  if (!spec.contains("type")) spec["type"] = "ClusterIP";
  std::string type = spec["type"].is_string() ? spec["type"].get<std::string>() : "";
  if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
  bool external = type == "NodePort" || type == "LoadBalancer";
  if (type != "ExternalName") {
    if (!spec.contains("internalTrafficPolicy")) spec["internalTrafficPolicy"] = "Cluster";
    if (external && !spec.contains("externalTrafficPolicy")) spec["externalTrafficPolicy"] = "Cluster";
    if (type == "LoadBalancer" && !spec.contains("allocateLoadBalancerNodePorts")) spec["allocateLoadBalancerNodePorts"] = true;
  }
  // What this Service takes, beside what the others hold (not a copy of theirs: 10,000 Services).
  std::set<std::string> ownIps;
  std::set<int> ownPorts;
  auto ipTaken = [&](const std::string& ip) { return taken.clusterIps.count(ip) || ownIps.count(ip); };
  auto portTaken = [&](int port) { return taken.nodePorts.count(port) || ownPorts.count(port); };
  Json ports = spec.value("ports", Json::array());
  if (ports.is_array()) {
    Json beforePorts = at(before, "ports");
    for (size_t i = 0; i < ports.size(); ++i) {
      Json& p = ports[i];
      if (!p.is_object()) continue;
      if (!p.contains("protocol")) p["protocol"] = "TCP";
      if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
      bool wantsNodePort = type == "NodePort" || (type == "LoadBalancer" && spec.value("allocateLoadBalancerNodePorts", true));
      // A port asked for: in the range, and not another Service's (its own, on an update, it keeps).
      if (at(p, "nodePort").is_number_integer()) {
        int64_t n = p["nodePort"].get<int64_t>();  // not int: a huge value must not wrap into the range
        bool held = false;
        for (const Json& b : beforePorts.is_array() ? beforePorts : Json::array()) held = held || at(b, "nodePort") == n;
        if (n < 30000 || n > 32767) {
          return fail(invalid(service, fmt::format("spec.ports[{}].nodePort: Invalid value: {}: provided port is not in the "
                                                   "valid range. The range of valid ports is 30000-32767", i, n)));
        }
        if (!held && taken.nodePorts.count(n)) {
          return fail(invalid(service, fmt::format("spec.ports[{}].nodePort: Invalid value: {}: provided port is already "
                                                   "allocated", i, n)));
        }
        ownPorts.insert(n);
      }
      if (wantsNodePort && !p.contains("nodePort")) {
        // Keep the port's node port across an update, as the real allocator does.
        for (const Json& b : beforePorts.is_array() ? beforePorts : Json::array()) {
          if (at(b, "port") == p["port"] && at(b, "protocol") == p["protocol"] && at(b, "nodePort").is_number_integer()) {
            p["nodePort"] = b["nodePort"];
          }
        }
        for (int n = 30000; !p.contains("nodePort") && n <= 32767; ++n) {
          if (!portTaken(n)) {
            p["nodePort"] = n;
            ownPorts.insert(n);
          }
        }
      }
    }
    spec["ports"] = ports;
  }
  if (type == "ExternalName") return service;

  // ipFamilyPolicy and ipFamilies, by kube-apiserver's rules (service/storage/alloc.go).
  if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = at(before, "ipFamilyPolicy").is_string() ? at(before, "ipFamilyPolicy") : Json("SingleStack");
  std::string policy = spec["ipFamilyPolicy"].is_string() ? spec["ipFamilyPolicy"].get<std::string>() : "";
  if (policy != "SingleStack" && policy != "PreferDualStack" && policy != "RequireDualStack") {
    return fail(invalid(service, fmt::format("spec.ipFamilyPolicy: Unsupported value: \"{}\": supported values: "
                                             "\"PreferDualStack\", \"RequireDualStack\", \"SingleStack\"", policy)));
  }
  if (!spec.contains("ipFamilies") && at(before, "ipFamilies").is_array()) spec["ipFamilies"] = before["ipFamilies"];
  Json families = spec.value("ipFamilies", Json::array());
  if (!families.is_array()) families = Json::array();
  if (policy == "SingleStack" && families.size() == 2) {
    return fail(invalid(service, "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or "
                                 "'PreferDualStack' when multiple IP families are specified"));
  }
  if (families.empty()) families.push_back("IPv4");
  if (policy != "SingleStack" && families.size() == 1) families.push_back(families[0] == "IPv4" ? "IPv6" : "IPv4");
  spec["ipFamilies"] = families;

  // Cluster IPs: kept across updates, else the next free one of each family.
  if (spec.value("clusterIP", "") == "None") return service;
  Json ips = at(before, "clusterIPs").is_array() ? before["clusterIPs"]
             : spec.contains("clusterIPs") && spec["clusterIPs"].is_array() ? spec["clusterIPs"]
             : spec.contains("clusterIP") && spec["clusterIP"].is_string() && !spec["clusterIP"].get<std::string>().empty()
                 ? Json::array({spec["clusterIP"]})
                 : Json::array();
  while (ips.size() > families.size()) ips.erase(ips.size() - 1);
  for (size_t i = ips.size(); i < families.size(); ++i) {
    bool v6 = families[i] == "IPv6";
    for (int n = 10; n < 4096; ++n) {
      std::string candidate = clusterAddress(v6, n);
      if (!ipTaken(candidate)) {
        ips.push_back(candidate);
        ownIps.insert(candidate);
        break;
      }
    }
  }
  spec["clusterIPs"] = ips;
  if (!ips.empty()) spec["clusterIP"] = ips[0];
  if (previous.is_null() && !service.contains("status")) service["status"] = {{"loadBalancer", Json::object()}};
  defaultIngressIpMode(service);
  return service;
}

}  // namespace l2a::lab

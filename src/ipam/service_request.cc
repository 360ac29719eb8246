#include "ipam/service_request.h"

#include "kube/client.h"

#include <fmt/format.h>

namespace l2a::ipam {
namespace {

// The first of `keys` the Service carries (ours first, then Cilium's, MetalLB's, kube-vip's).
std::string annotation(const nlohmann::json& annotations, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (annotations.contains(key) && annotations[key].is_string()) return annotations[key];
  }
  return "";
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

}  // namespace

namespace {

ServiceRequest parseServiceFields(const nlohmann::json& service, const k8s::LoadBalancerClasses& classes) {
  ServiceRequest r;
  const auto& meta = service.value("metadata", nlohmann::json::object());
  const auto& spec = service.value("spec", nlohmann::json::object());
  r.ns = meta.value("namespace", "");
  r.name = meta.value("name", "");
  r.key = r.ns + "/" + r.name;
  r.labels = k8s::labelsOf(service);
  r.labels["io.kubernetes.service.name"] = r.name;
  r.labels["io.kubernetes.service.namespace"] = r.ns;
  std::string cls = spec.contains("loadBalancerClass") && spec["loadBalancerClass"].is_string()
                        ? spec["loadBalancerClass"].get<std::string>()
                        : "";
  r.qualifies = spec.value("type", "") == "LoadBalancer" && classes.serves(cls);

  const auto& annotations = meta.value("annotations", nlohmann::json::object());
  std::vector<std::string> requested = splitList(annotation(
      annotations, {kAnnotationIps, kAnnotationIpsCilium, kAnnotationIpsMetallb, kAnnotationIpsMetallbOld, kAnnotationIpsKubeVip}));
  if (spec.contains("loadBalancerIP") && spec["loadBalancerIP"].is_string() &&
      !spec["loadBalancerIP"].get<std::string>().empty()) {
    requested.push_back(spec["loadBalancerIP"]);
  }
  for (const std::string& text : requested) {
    auto a = Address::parse(text);
    if (!a) {
      r.requestError = fmt::format("requested address '{}' is not an IP address", text);
      continue;
    }
    if (std::find(r.requested.begin(), r.requested.end(), *a) == r.requested.end()) r.requested.push_back(*a);
  }
  r.sharingKey = annotation(annotations, {kAnnotationSharingKey, kAnnotationSharingKeyCilium, kAnnotationSharingMetallb,
                                          kAnnotationSharingMetallbOld});
  r.sharingNamespaces = splitList(annotation(annotations, {kAnnotationSharingCrossNamespace,
                                                           kAnnotationSharingCrossNamespaceCilium}));
  r.poolName = annotation(annotations, {kAnnotationPoolMetallb, kAnnotationPoolMetallbOld});

  for (const auto& p : spec.value("ports", nlohmann::json::array())) {
    r.ports.push_back({p.value("port", 0), p.value("protocol", std::string("TCP"))});
  }
  r.externalTrafficPolicy = spec.value("externalTrafficPolicy", std::string("Cluster"));
  r.selector = spec.value("selector", nlohmann::json::object());

  // Families, as Cilium's LB-IPAM reads them: a SingleStack service gets its first family; dual
  // stack (or nothing said) gets the families listed, or both when none are.
  std::string policy = spec.value("ipFamilyPolicy", std::string());
  std::vector<std::string> families;
  for (const auto& f : spec.value("ipFamilies", nlohmann::json::array())) {
    if (f.is_string()) families.push_back(f);
  }
  if (policy == "SingleStack") {
    (!families.empty() && families[0] == "IPv6" ? r.wantV6 : r.wantV4) = true;
  } else if (families.empty()) {
    r.wantV4 = r.wantV6 = true;
  } else {
    for (const auto& f : families) {
      if (f == "IPv4") r.wantV4 = true;
      if (f == "IPv6") r.wantV6 = true;
    }
  }
  r.requireDualStack = policy == "RequireDualStack";
  if (r.requireDualStack) r.wantV4 = r.wantV6 = true;

  const auto& ingress = service.value("status", nlohmann::json::object())
                            .value("loadBalancer", nlohmann::json::object())
                            .value("ingress", nlohmann::json::array());
  for (const auto& i : ingress) {
    if (i.contains("ip") && i["ip"].is_string()) {
      if (auto a = Address::parse(i["ip"].get<std::string>())) r.ingress.push_back(*a);
    }
  }
  return r;
}

}  // namespace

// A field of the wrong type makes the Service one LB-IPAM does not serve, with the reason as
// its request error, never an exception.
ServiceRequest parseService(const nlohmann::json& service, const k8s::LoadBalancerClasses& classes) {
  try {
    return parseServiceFields(service, classes);
  } catch (const nlohmann::json::exception& e) {
    ServiceRequest r;
    r.ns = k8s::namespaceOf(service);
    r.name = k8s::nameOf(service);
    r.key = r.ns + "/" + r.name;
    r.requestError = std::string("malformed object: ") + e.what();
    return r;
  }
}

const std::vector<k8s::Path>& operatorServiceFields() {
  static const std::vector<k8s::Path> fields = [] {
    std::vector<k8s::Path> f = k8s::withIdentity({
        {"metadata", "creationTimestamp"},
        {"metadata", "labels"},
        {"spec", "type"},
        {"spec", "loadBalancerClass"},
        {"spec", "loadBalancerIP"},
        {"spec", "ports", "*", "port"},
        {"spec", "ports", "*", "protocol"},
        {"spec", "externalTrafficPolicy"},
        {"spec", "selector"},
        {"spec", "ipFamilyPolicy"},
        {"spec", "ipFamilies"},
        {"status", "loadBalancer"},
        {"status", "conditions"},
    });
    for (const char* a : {kAnnotationIps, kAnnotationIpsCilium, kAnnotationIpsMetallb, kAnnotationIpsMetallbOld,
                          kAnnotationIpsKubeVip, kAnnotationSharingKey, kAnnotationSharingKeyCilium, kAnnotationSharingMetallb,
                          kAnnotationSharingMetallbOld, kAnnotationSharingCrossNamespace,
                          kAnnotationSharingCrossNamespaceCilium, kAnnotationPoolMetallb, kAnnotationPoolMetallbOld}) {
      f.push_back({"metadata", "annotations", a});
    }
    return f;
  }();
  return fields;
}

}  // namespace l2a::ipam

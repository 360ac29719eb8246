#include "agent/cluster_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>

#include "agent/agent.h"
#include "agent/service_index.h"

namespace l2a::agent {

using Json = nlohmann::json;

namespace {

// A node's weight from its l2announcer.io/weight annotation: a finite number in (0, 1000];
// anything else is a problem and the weight stays 1 (NaN would make every score NaN).
double weightOf(const std::string& text, std::string& problem) {
  if (text.empty()) return 1.0;
  char* end = nullptr;
  double w = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !std::isfinite(w) || w <= 0 || w > 1000) {
    problem = fmt::format("annotation {}=\"{}\" is not a number in (0, 1000]; weight 1 used", kWeightAnnotation, text);
    return 1.0;
  }
  return w;
}

// The interfaces a node's agent published on its Lease: {"eth0": {"up": true, "mac": "..."}}.
// Absent, unknown (nullopt); malformed, none up, and a problem.
std::optional<std::map<std::string, bool>> publishedInterfaces(const std::string& text, std::string& problem) {
  if (text.empty()) return std::nullopt;
  Json interfaces = Json::parse(text, nullptr, false);
  std::map<std::string, bool> up;
  bool valid = interfaces.is_object();
  // Iterate only a live object: items() of a temporary (the empty object this loop once fell
  // back to) dangles — found by the cluster_view fuzz target under ASan.
  if (!valid) interfaces = Json::object();
  for (const auto& [name, state] : interfaces.items()) {
    auto u = state.is_object() ? state.find("up") : state.end();
    if (!state.is_object() || u == state.end() || !u->is_boolean()) {
      valid = false;
      break;
    }
    up[name] = u->get<bool>();
  }
  if (!valid) {
    // Not "unknown" (which trusts the node, as before its agent first publishes): a node that
    // publishes garbage is given no interface, so nothing is planned onto it.
    problem = fmt::format("annotation {} on its Lease is not {{\"IFACE\": {{\"up\": BOOL}}}}; no interface taken as up",
                          kInterfacesAnnotation);
    return std::map<std::string, bool>{};
  }
  return up;
}

// Why no plan may use this node although it is selected and live, or "".
std::string avoidance(const Json& node, const k8s::Labels& labels, const NodeAvoidance& avoid) {
  if (labels.count(kDrainLabel)) {
    return fmt::format("drained (label {}; l2a uncordon {} gives it back)", kDrainLabel, k8s::nameOf(node));
  }
  if (avoid.excluded && labels.count(kExcludeFromLoadBalancersLabel)) {
    return fmt::format("labelled {}", kExcludeFromLoadBalancersLabel);
  }
  const Json* spec = node.contains("spec") ? &node["spec"] : nullptr;
  if (avoid.cordoned && spec && spec->is_object() && spec->value("unschedulable", Json(false)) == Json(true)) {
    return "cordoned (spec.unschedulable)";
  }
  return "";
}

}  // namespace

std::string annotation(const Json& object, const char* key) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto annotations = meta->find("annotations");
  if (annotations == meta->end() || !annotations->is_object()) return "";
  auto value = annotations->find(key);
  return value != annotations->end() && value->is_string() ? value->get<std::string>() : "";
}

ObjectVisitor eachOf(std::vector<Json> objects) {
  auto held = std::make_shared<const std::vector<Json>>(std::move(objects));
  return [held](const std::function<void(const Json&)>& visit) {
    for (const Json& o : *held) visit(o);
  };
}

policy::ClusterView buildClusterView(ViewInputs in) {
  policy::ClusterView view;
  auto visit = [](const ObjectVisitor& objects, const std::function<void(const Json&)>& fn) {
    if (objects) objects(fn);
  };
  std::map<std::string, std::set<std::string>> readyNodes;  // service key -> nodes
  visit(in.endpointSlices, [&](const Json& slice) {
    auto [service, nodes] = readyEndpointNodes(slice);
    if (!service.empty()) readyNodes[service].insert(nodes.begin(), nodes.end());
  });
  view.services = std::move(in.serviceInfos);
  visit(in.services, [&](const Json& s) {
    policy::ServiceInfo info = policy::serviceInfoFrom(s, in.classes);
    if (info.local) info.setReadyEndpointNodes(readyNodes[info.key]);
    view.services.push_back(std::make_shared<const policy::ServiceInfo>(std::move(info)));
  });
  for (const auto& info : view.services) {
    if (!info->problem().empty()) view.problems.push_back(fmt::format("Service {}: {}", info->key, info->problem()));
  }
  view.policies = in.policies;
  visit(in.nodes, [&](const Json& n) {
    policy::NodeInfo node;
    node.name = k8s::nameOf(n);
    node.labels = k8s::labelsOf(n);
    node.weight = weightOf(annotation(n, kWeightAnnotation), node.problem);
    node.avoided = avoidance(n, node.labels, in.avoid);
    if (auto lease = in.leaseOf(node.name)) {
      node.live = in.live(node.name, *lease);
      std::string problem;
      node.interfaces = publishedInterfaces(annotation(*lease, kInterfacesAnnotation), problem);
      if (!problem.empty()) node.problem += (node.problem.empty() ? "" : "; ") + problem;
    }
    if (!node.problem.empty()) view.problems.push_back(fmt::format("Node {}: {}", node.name, node.problem));
    view.nodes.push_back(std::move(node));
  });
  return view;
}

bool leaseLiveByTimestamps(const std::string& node, const Json& lease,
                           std::chrono::system_clock::time_point now) {
  const Json spec = lease.is_object() ? lease.value("spec", Json::object()) : Json::object();
  if (!spec.is_object() || spec.value("holderIdentity", Json()) != Json(node)) return false;
  Json renewField = spec.value("renewTime", Json(""));
  Json durationField = spec.value("leaseDurationSeconds", Json(0));
  if (!renewField.is_string() || !durationField.is_number_integer()) return false;
  // A record's duration bounded to an hour: a huge one must not overflow the clock.
  auto duration = std::chrono::seconds(std::clamp<int64_t>(durationField.get<int64_t>(), 0, 3600));
  std::string renew = renewField.get<std::string>();
  std::tm tm{};
  if (strptime(renew.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return false;
  auto renewed = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto dot = renew.find('.');
  if (dot != std::string::npos) renewed += std::chrono::microseconds(std::atol(renew.substr(dot + 1, 6).c_str()));
  return renewed + duration > now;
}

}  // namespace l2a::agent

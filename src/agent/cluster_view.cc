#include "agent/cluster_view.h"

#include <ctime>
#include <map>
#include <set>

#include "agent/agent.h"

namespace l2a::agent {

using Json = nlohmann::json;

policy::ClusterView buildClusterView(const ViewInputs& in) {
  policy::ClusterView view;
  std::map<std::string, std::set<std::string>> readyNodes;  // service key -> nodes
  for (const Json& slice : in.endpointSlices) {
    std::string svc = kube::labelsOf(slice)["kubernetes.io/service-name"];
    if (svc.empty()) continue;
    std::string key = kube::namespaceOf(slice) + "/" + svc;
    for (const Json& e : slice.value("endpoints", Json::array())) {
      bool ready = e.value("/conditions/ready"_json_pointer, true);  // unset means ready
      std::string node = e.value("nodeName", "");
      if (ready && !node.empty()) readyNodes[key].insert(node);
    }
  }
  for (const Json& s : in.services) {
    policy::ServiceInfo info = policy::serviceInfoFrom(s);
    info.readyEndpointNodes = readyNodes[info.key];
    view.services.push_back(std::move(info));
  }
  view.policies = in.policies;
  for (const Json& n : in.nodes) {
    policy::NodeInfo node;
    node.name = kube::nameOf(n);
    node.labels = kube::labelsOf(n);
    std::string weight = n.value("/metadata/annotations"_json_pointer, Json::object()).value(kWeightAnnotation, "");
    if (!weight.empty()) node.weight = std::strtod(weight.c_str(), nullptr);
    if (auto lease = in.leaseOf(node.name)) {
      node.live = in.live(node.name, *lease);
      std::string published = lease->value("/metadata/annotations"_json_pointer, Json::object())
                                  .value(kInterfacesAnnotation, "");
      Json interfaces = Json::parse(published, nullptr, false);
      if (interfaces.is_object()) {
        std::map<std::string, bool> up;
        for (const auto& [name, state] : interfaces.items()) up[name] = state.value("up", false);
        node.interfaces = up;
      }
    }
    view.nodes.push_back(std::move(node));
  }
  return view;
}

bool leaseLiveByTimestamps(const std::string& node, const Json& lease,
                           std::chrono::system_clock::time_point now) {
  const Json& spec = lease.value("spec", Json::object());
  if (spec.value("holderIdentity", "") != node) return false;
  std::string renew = spec.value("renewTime", "");
  std::tm tm{};
  if (strptime(renew.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return false;
  auto renewed = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto dot = renew.find('.');
  if (dot != std::string::npos) renewed += std::chrono::microseconds(std::atol(renew.substr(dot + 1, 6).c_str()));
  return renewed + std::chrono::seconds(spec.value("leaseDurationSeconds", 0)) > now;
}

}  // namespace l2a::agent

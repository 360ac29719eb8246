#include "policy/assignment.h"

#include <algorithm>
#include <unordered_map>

#include "policy/rendezvous.h"

namespace l2a::policy {
namespace {

void addUnique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

namespace {

ServiceInfo serviceInfoFields(const nlohmann::json& service, const k8s::LoadBalancerClasses& classes) {
  ServiceInfo s;
  const auto& meta = service.value("metadata", nlohmann::json::object());
  const auto& spec = service.value("spec", nlohmann::json::object());
  std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
  s.key = ns + "/" + name;
  if (meta.contains("uid") && meta["uid"].is_string()) s.uid = k8s::Uid(meta["uid"].get_ref<const std::string&>());
  s.labels = k8s::PackedLabels(k8s::labelsOf(service));
  std::string cls = spec.contains("loadBalancerClass") && spec["loadBalancerClass"].is_string()
                        ? spec["loadBalancerClass"].get<std::string>() : "";
  s.handled = spec.value("type", "") == "LoadBalancer" && classes.serves(cls);
  const auto& ingress = service.value("status", nlohmann::json::object())
                            .value("loadBalancer", nlohmann::json::object())
                            .value("ingress", nlohmann::json::array());
  for (const auto& i : ingress) {
    if (i.contains("ip") && i["ip"].is_string()) s.loadBalancerIPs.push_back(i["ip"]);
  }
  std::vector<std::string> external;
  for (const auto& ip : spec.value("externalIPs", nlohmann::json::array())) {
    if (ip.is_string()) external.push_back(ip);
  }
  s.setExternalIPs(std::move(external));
  s.local = spec.value("externalTrafficPolicy", std::string("Cluster")) == "Local";
  return s;
}

}  // namespace

const ServiceInfo::Rare& ServiceInfo::rareOrEmpty() const {
  static const Rare kNone;
  return rare ? *rare : kNone;
}

// Copy on write: copies of a ServiceInfo share what they had; one that changes takes its own.
template <class Change>
void ServiceInfo::changeRare(Change change) {
  auto changed = std::make_shared<Rare>(rareOrEmpty());
  change(*changed);
  if (*changed == Rare{}) {
    rare.reset();
  } else {
    rare = std::move(changed);
  }
}

void ServiceInfo::setExternalIPs(std::vector<std::string> ips) {
  changeRare([&](Rare& r) { r.externalIPs = std::move(ips); });
}

void ServiceInfo::setReadyEndpointNodes(std::set<std::string> nodes) {
  changeRare([&](Rare& r) { r.readyEndpointNodes = std::move(nodes); });
}

void ServiceInfo::setProblem(std::string problem) {
  changeRare([&](Rare& r) { r.problem = std::move(problem); });
}

bool ServiceInfo::operator==(const ServiceInfo& o) const {
  return key == o.key && uid == o.uid && labels == o.labels && handled == o.handled && local == o.local &&
         loadBalancerIPs == o.loadBalancerIPs && rareOrEmpty() == o.rareOrEmpty();
}

std::optional<std::string_view> ServiceInfo::label(const std::string& name) const {
  std::string_view k = key;
  auto slash = k.find('/');
  if (name == "io.kubernetes.service.namespace") return k.substr(0, slash);
  if (name == "io.kubernetes.service.name") return slash == std::string_view::npos ? k : k.substr(slash + 1);
  return labels.find(name);
}

bool ServiceInfo::selectedBy(const k8s::LabelSelector& selector) const {
  return selector.matchesLabel([this](const std::string& name) { return label(name); });
}

// A field of the wrong type makes the Service one this node does not announce, with the reason,
// never an exception.
ServiceInfo serviceInfoFrom(const nlohmann::json& service, const k8s::LoadBalancerClasses& classes) {
  try {
    return serviceInfoFields(service, classes);
  } catch (const nlohmann::json::exception& e) {
    auto metadata = [&](const char* field) -> std::string {
      auto m = service.find("metadata");
      if (m == service.end() || !m->is_object()) return "";
      auto f = m->find(field);
      return f != m->end() && f->is_string() ? f->get<std::string>() : "";
    };
    ServiceInfo s;
    s.key = metadata("namespace") + "/" + metadata("name");
    s.setProblem(std::string("malformed object: ") + e.what());
    return s;
  }
}

// The nodes that may announce an address of these policies (with the Services' local endpoints
// when `localServices` is given), and why each other node may not.
static std::shared_ptr<const NodeVerdicts> judgeNodes(const ClusterView& view, const std::vector<const L2Policy*>& policies,
                                                      const std::vector<const ServiceInfo*>* localServices) {
  auto out = std::make_shared<NodeVerdicts>();
  for (const NodeInfo& node : view.nodes) {
    bool selected = false, interfaceUp = false;
    for (const L2Policy* p : policies) {
      if (!p->nodeSelector.matches(node.labels)) continue;
      selected = true;
      if (!node.interfaces) {
        interfaceUp = true;
      } else {
        for (const auto& [name, up] : *node.interfaces) {
          if (up && p->interfaceSelector.matches(name)) interfaceUp = true;
        }
      }
    }
    std::string reason;
    if (!selected) {
      reason = "no policy's nodeSelector selects it";
    } else if (!node.live) {
      reason = "its agent's lease is not live";
    } else if (!node.avoided.empty()) {
      reason = node.avoided;
    } else if (!interfaceUp) {
      reason = "no selected interface is up";
    } else if (localServices && std::none_of(localServices->begin(), localServices->end(), [&](const ServiceInfo* s) {
                 return s->local && s->readyEndpointNodes().count(node.name);
               })) {
      reason = "no ready local endpoint (externalTrafficPolicy: Local)";
    }
    if (reason.empty()) {
      out->candidates.push_back(node.name);
      out->weighted.push_back({node.name, node.weight});
    } else {
      out->excluded.push_back({node.name, reason});
    }
  }
  return out;
}

std::map<std::string, AddressPlan> planAddresses(const ClusterView& view) {
  // Which policies announce which address (the unit is the address: Services sharing one share
  // its plan).
  std::map<std::string, AddressPlan> plans;
  // Beside each plan (its node in `plans` never moves), the policies and Services it came from:
  // one lookup by address per Service and policy, not three (a plan of 10,000 addresses spent a
  // third of its time comparing address strings and allocating in per-address maps).
  struct Sources {
    std::vector<const L2Policy*> policies;
    std::vector<const ServiceInfo*> services;
  };
  std::unordered_map<const AddressPlan*, Sources> sourcesOf;
  sourcesOf.reserve(view.services.size());
  std::vector<const std::string*> addresses;
  for (const auto& shared : view.services) {
    const ServiceInfo& s = *shared;
    if (!s.handled) continue;
    for (const L2Policy& p : view.policies) {
      if (!p.valid() || !s.selectedBy(p.serviceSelector)) continue;
      addresses.clear();
      if (p.loadBalancerIPs) {
        for (const std::string& a : s.loadBalancerIPs) {
          if (p.admits(a)) addresses.push_back(&a);
        }
      }
      if (p.externalIPs) {
        for (const std::string& a : s.externalIPs()) addresses.push_back(&a);
      }
      for (const std::string* a : addresses) {
        auto [it, fresh] = plans.try_emplace(*a);
        AddressPlan& plan = it->second;
        if (fresh) plan.address = *a;
        addUnique(plan.services, s.key);
        addUnique(plan.policies, p.name);
        if (p.interfaces.empty()) plan.allInterfaces = true;
        for (const auto& i : p.interfaces) addUnique(plan.interfacePatterns, i);
        Sources& sources = sourcesOf[&plan];
        if (std::find(sources.policies.begin(), sources.policies.end(), &p) == sources.policies.end()) {
          sources.policies.push_back(&p);
        }
        if (std::find(sources.services.begin(), sources.services.end(), &s) == sources.services.end()) {
          sources.services.push_back(&s);
        }
      }
    }
  }
  // Which nodes may announce depends on the address's policies (and, for Services with
  // externalTrafficPolicy: Local, on their endpoints): judged once per distinct set of policies
  // and shared by every address with that set — O(policy sets × nodes), not O(addresses × nodes).
  std::map<std::vector<const L2Policy*>, std::shared_ptr<const NodeVerdicts>> shared;
  for (auto& [address, plan] : plans) {
    if (plan.allInterfaces) plan.interfacePatterns.clear();
    const Sources& sources = sourcesOf.at(&plan);
    const auto& policies = sources.policies;
    const auto& services = sources.services;
    bool anyLocal = std::any_of(services.begin(), services.end(), [](const ServiceInfo* s) { return s->local; });
    if (anyLocal) {
      plan.nodes = judgeNodes(view, policies, &services);
    } else {
      auto& verdicts = shared[policies];
      if (!verdicts) verdicts = judgeNodes(view, policies, nullptr);
      plan.nodes = verdicts;
    }
    auto [best, second] = chooseOwners(address, plan.nodes->weighted);
    plan.preferred = best;
    auto held = view.holders.find(address);
    std::vector<Candidate> holding;  // the holders that are still candidates
    if (held != view.holders.end()) {
      for (const Candidate& c : plan.nodes->weighted) {
        if (c.weight > 0 && held->second.count(c.node)) holding.push_back(c);
      }
    }
    auto record = view.recorded.find(address);
    // The owner with GONE out of the candidates ("" for none gone): the preferred node, unless
    // a holder that is still a candidate keeps it (the recorded one first).
    auto ownerWithout = [&](const std::string& gone) {
      const std::string& preferred = best == gone && !gone.empty() ? second : best;
      if (held == view.holders.end() || (view.rebalance && held->second.count(preferred))) return preferred;
      std::vector<Candidate> left;
      for (const Candidate& c : holding) {
        if (c.node != gone) left.push_back(c);
      }
      if (record != view.recorded.end() && record->second != gone &&
          std::any_of(left.begin(), left.end(), [&](const Candidate& c) { return c.node == record->second; })) {
        return record->second;
      }
      return left.empty() ? preferred : chooseOwner(address, left);
    };
    plan.owner = ownerWithout("");
    if (!plan.owner.empty()) plan.successor = ownerWithout(plan.owner);
  }
  return plans;
}

}  // namespace l2a::policy

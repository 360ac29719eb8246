#include "cli/explain_diagnosis.h"

#include <fmt/format.h>

#include <set>

#include "agent/agent.h"
#include "agent/announcement_records.h"
#include "ipam/allocator.h"
#include "ipam/lb_ipam_controller.h"
#include "k8s/object_meta.h"

namespace l2a::cli {

using Json = nlohmann::json;

Json diagnose(const Json& service, const ExplainSnapshot& snapshot) {
  const policy::ClusterView& view = snapshot.view;
  const auto& plans = snapshot.plans;
  const auto& pools = snapshot.pools;
  const auto& leaseOfNode = snapshot.leaseOfNode;
  Json out{{"service", k8s::keyOf(service)}, {"steps", Json::array()}};
  std::string verdict;
  auto add = [&](const std::string& name, bool ok, const std::string& detail, Json extra = Json::object()) {
    Json s{{"step", name}, {"ok", ok}, {"detail", detail}};
    s.update(extra);
    out["steps"].push_back(s);
    if (!ok && verdict.empty()) verdict = fmt::format("stops at {}: {}", name, detail);
  };
  policy::ServiceInfo info = policy::serviceInfoFrom(service);
  const Json& spec = service.value("spec", Json::object());
  std::string cls = spec.contains("loadBalancerClass") && spec["loadBalancerClass"].is_string()
                        ? spec["loadBalancerClass"].get<std::string>() : "<none>";
  add("service", info.handled,
      info.handled ? fmt::format("type LoadBalancer, loadBalancerClass {}: handled", cls)
                   : fmt::format("type {}, loadBalancerClass {}: not handled (needs type LoadBalancer and no class, "
                                 "l2announcer.io/l2 or io.cilium/l2-announcer)", spec.value("type", "ClusterIP"), cls));

  // IPAM: the operator's condition, and which pools select the Service.
  Json poolReport = Json::array();
  ipam::ServiceRequest request = ipam::parseService(service);
  for (const auto& [pool, object] : pools) {
    std::string refusal = ipam::Allocator::refusal(pool, request);
    bool selects = refusal.empty();
    std::string why = !selects ? refusal
                      : ipam::poolConflicting(object) ? "selects it, but is conflicting (allocates nothing)"
                      : pool.disabled ? "selects it, but is disabled (no new allocations)"
                      : !pool.autoAssign ? "selects it only when asked for by name or address (autoAssign: false)"
                      : "selects it";
    if (!selects && !pool.namespaceSelectors.empty() && refusal.rfind("namespace ", 0) == 0) {
      why += " (nor, as far as explain knows, among its namespaceSelectors: the operator reads the Namespace's labels)";
    }
    if (!pool.errors.empty()) why += fmt::format("; invalid: {}", pool.errors[0]);
    poolReport.push_back({{"pool", pool.key}, {"selects", selects}, {"why", why}});
  }
  Json condition;
  for (const Json& c : service.value("/status/conditions"_json_pointer, Json::array())) {
    if (c.value("type", "") == ipam::kConditionType) condition = c;
  }
  if (info.handled) {
    bool has = !info.loadBalancerIPs.empty();
    std::string detail = condition.is_null()
                             ? (has ? "addresses present (no IPAM condition: set by something else)"
                                    : "no address and no IPAM condition: is l2a operator running, and does a pool exist?")
                             : fmt::format("{} ({}): {}", condition.value("status", ""), condition.value("reason", ""),
                                           condition.value("message", ""));
    add("ipam", has, detail, {{"addresses", info.loadBalancerIPs}, {"pools", poolReport}});
  }

  // Policies.
  Json policyReport = Json::array();
  bool anyPolicy = false;
  for (const auto& p : view.policies) {
    std::string why;
    if (!p.valid()) {
      why = fmt::format("invalid: {}", p.errors[0].second);
    } else if (!info.selectedBy(p.serviceSelector)) {
      why = "serviceSelector does not match";
    } else if (!(p.loadBalancerIPs && !info.loadBalancerIPs.empty()) && !(p.externalIPs && !info.externalIPs().empty())) {
      why = fmt::format("selects it, but announces neither kind of its addresses (loadBalancerIPs: {}, externalIPs: {})",
                        p.loadBalancerIPs, p.externalIPs);
    } else {
      why = "selects it";
      anyPolicy = true;
    }
    policyReport.push_back({{"policy", p.key}, {"selects", why == "selects it"}, {"why", why}});
  }
  if (info.handled && !info.loadBalancerIPs.empty()) {
    add("policies", anyPolicy,
        anyPolicy ? "an L2 announcement policy selects it"
                  : view.policies.empty() ? "no L2AnnouncementPolicy exists, so no node announces its addresses"
                                          : "no L2 announcement policy selects it and announces its addresses",
        {{"policies", policyReport}});
  }

  // Per address: candidates, owner, lease.
  Json addresses = Json::array();
  if (anyPolicy) {
    std::vector<std::string> all = info.loadBalancerIPs;
    all.insert(all.end(), info.externalIPs().begin(), info.externalIPs().end());
    for (const std::string& a : all) {
      auto it = plans.find(a);
      if (it == plans.end()) continue;
      const auto& plan = it->second;
      Json excluded = Json::array();
      for (const auto& e : plan.excluded()) excluded.push_back({{"node", e.node}, {"reason", e.reason}});
      Json entry{{"address", a}, {"candidates", plan.candidates()}, {"excluded", excluded}, {"owner", plan.owner()},
                 {"interfaces", plan.interfacePatterns().empty() ? Json::array({"<every interface the agent uses>"})
                                                               : Json(plan.interfacePatterns())}};
      if (!plan.owner().empty()) {
        auto lease = leaseOfNode.find(plan.owner());
        if (lease != leaseOfNode.end()) {
          entry["lease"] = {{"renewTime", lease->second.value("/spec/renewTime"_json_pointer, std::string())},
                            {"acquireTime", lease->second.value("/spec/acquireTime"_json_pointer, std::string())}};
          Json ifs = Json::parse(lease->second.value("/metadata/annotations"_json_pointer, Json::object())
                                     .value(agent::kInterfacesAnnotation, "{}"), nullptr, false);
          Json macs = Json::array();
          if (ifs.is_object()) {
            for (const auto& [name, state] : ifs.items()) {
              macs.push_back({{"interface", name}, {"mac", state.value("mac", "")}, {"up", state.value("up", false)}});
            }
          }
          entry["ownerInterfaces"] = macs;
        }
      }
      if (!plan.owner().empty() && plan.owner() != plan.preferred()) {
        entry["kept"] = {{"preferred", plan.preferred()},
                         {"why", fmt::format("{} holds it and may still announce it, so it keeps it (rendezvous hashing "
                                             "prefers {}; agents run with --rebalance take it back)",
                                             plan.owner(), plan.preferred())}};
      }
      for (const Json& record : snapshot.records) {
        if (!record.is_object()) continue;
        const Json status = record.value("status", Json::object());
        if (!status.is_object() || status.value("address", Json()) != Json(a)) continue;
        const Json serviceName = status.value("serviceName", Json());
        if (!serviceName.is_string() || k8s::namespaceOf(record) + "/" + serviceName.get<std::string>() != info.key) {
          continue;
        }
        entry["record"] = {{"name", k8s::nameOf(record)},
                           {"node", status.value("node", Json(""))},
                           {"interfaces", status.value("interfaceNames", Json(""))},
                           {"macs", status.value("macs", Json(""))},
                           {"since", status.value("since", Json(""))},
                           {"cause", status.value("cause", Json(""))}};
      }
      addresses.push_back(entry);
      if (plan.owner().empty() && verdict.empty()) {
        verdict = fmt::format("stops at nodes: no candidate node for {}", a);
      }
    }
    out["addresses"] = addresses;
  }
  // The condition the agents write on the Service (announcement_records.h), as stored.
  const Json conditions = service.value("/status/conditions"_json_pointer, Json::array());
  for (const Json& c : conditions.is_array() ? conditions : Json::array()) {
    if (c.is_object() && c.value("type", Json()) == Json(agent::kAnnouncedCondition)) out["condition"] = c;
  }
  out["verdict"] = verdict.empty() ? "announced" : verdict;
  out["ok"] = verdict.empty();
  return out;
}

void addHolders(policy::ClusterView& view, const std::vector<Json>& records,
                const std::map<std::string, wire::Heartbeat>& heartbeats) {
  view.holders = agent::recordHolders(records);
  for (const auto& [address, nodes] : view.holders) {
    if (nodes.size() == 1) view.recorded[address] = *nodes.begin();
  }
  for (const auto& [node, h] : heartbeats) {
    for (const auto& a : h.announced) view.holders[packet::toString(a)].insert(node);
  }
}

void addWireReport(Json& out, const ExplainSnapshot& snapshot,
                   const std::function<Result<ProbeResult>(const std::string& address)>& probeOwnersOf) {
  const policy::ClusterView& view = snapshot.view;
  const auto& leaseOfNode = snapshot.leaseOfNode;
  if (!out.contains("addresses")) return;
  std::string verdict = out["ok"].get<bool>() ? "" : out["verdict"].get<std::string>();
  {
    std::map<std::string, std::string> nodeOfMac;
    for (const auto& [node, lease] : leaseOfNode) {
      Json ifs = Json::parse(lease.value("/metadata/annotations"_json_pointer, Json::object())
                                 .value(agent::kInterfacesAnnotation, "{}"), nullptr, false);
      if (ifs.is_object()) {
        for (const auto& [name, state] : ifs.items()) nodeOfMac[state.value("mac", "")] = node;
      }
    }
    for (Json& entry : out["addresses"]) {
      auto probe = probeOwnersOf(entry["address"].get<std::string>());
      if (!probe) {
        entry["probe"] = {{"error", probe.error().message}};
        continue;
      }
      // What the agents' heartbeats say: a node any heard agent accuses takes nothing, so the
      // owner is the plan's among the others (wire/liveness.h) — the Leases alone may name one
      // that is silent on the LAN.
      std::string owner = entry["owner"].get<std::string>();
      if (!probe->heartbeats.empty()) {
        std::set<std::string> accused, held;
        Json heard = Json::array();
        for (const auto& [node, h] : probe->heartbeats) {
          heard.push_back(node);
          accused.insert(h.accused.begin(), h.accused.end());
          held.insert(h.heldDown.begin(), h.heldDown.end());
        }
        policy::ClusterView wireView = view;
        addHolders(wireView, snapshot.records, probe->heartbeats);
        for (auto& n : wireView.nodes) {
          if (accused.count(n.name)) n.live = false;
          if (held.count(n.name)) n.weight = 0;  // a last resort, as the agents plan it
        }
        auto wirePlans = policy::planAddresses(wireView);
        auto wp = wirePlans.find(entry["address"].get<std::string>());
        owner = wp == wirePlans.end() ? "" : wp->second.owner();
        entry["wire"] = {{"heard", heard}, {"accused", Json(std::vector<std::string>(accused.begin(), accused.end()))},
                         {"heldDown", Json(std::vector<std::string>(held.begin(), held.end()))}, {"owner", owner}};
      }
      Json answered = Json::array();
      bool expected = false;
      for (const auto& mac : probe->owners) {
        std::string node = nodeOfMac.count(mac) ? nodeOfMac[mac] : "";
        answered.push_back({{"mac", mac}, {"node", node}});
        expected = expected || (!node.empty() && node == owner);
      }
      std::string result = probe->owners.empty() ? "nobody answered"
                           : probe->owners.size() > 1 ? "conflict: several MACs answered"
                           : expected ? "the expected node answered" : "someone else answered";
      entry["probe"] = {{"interface", probe->interface}, {"answered", answered}, {"result", result}};
      if (result != "the expected node answered" && verdict.empty()) {
        verdict = fmt::format("on the wire for {}: {}", entry["address"].get<std::string>(), result);
      }
    }
  }
  out["verdict"] = verdict.empty() ? "announced" : verdict;
  out["ok"] = verdict.empty();
}


}  // namespace l2a::cli

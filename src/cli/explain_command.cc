#include "cli/explain_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <nlohmann/json.hpp>

#include "agent/agent.h"
#include "agent/cluster_view.h"
#include "cli/exit_codes.h"
#include "cli/explain_diagnosis.h"
#include "cli/whohas_command.h"
#include "ipam/allocator.h"
#include "ipam/lb_ipam_controller.h"
#include "ipam/pool.h"
#include "cli/cli_client.h"
#include "kube/client.h"
#include "policy/assignment.h"

namespace l2a::cli {
namespace {

using Json = nlohmann::json;

// Every object of a resource. Reading the cluster never fails quietly: an error (a 403 names
// the permission the caller lacks) is reported as one line, never read as "there is none".
Result<std::vector<Json>> itemsOf(kube::Client& client, const kube::Resource& r, const std::string& ns = "") {
  auto list = client.listAll(r, ns, {.limit = 500});
  if (!list) {
    // The code stays (a 404 of an optional kind is "not installed").
    return fail(list.error().code, fmt::format("cannot list {}{}: {}", r.displayName(), ns.empty() ? "" : " in " + ns,
                                               list.error().message));
  }
  std::vector<Json> out;
  for (Json& item : (*list)["items"]) out.push_back(std::move(item));
  return out;
}

std::string step(bool ok) { return ok ? "[ok]" : "[!!]"; }

void printText(const Json& r) {
  fmt::print("Service {}\n", r["service"].get<std::string>());
  if (r.contains("agentLeases")) {
    fmt::print("  agents' node Leases: {} in namespace {} (looked in {})\n", r["agentLeases"]["count"].get<size_t>(),
               r["agentLeases"]["namespace"].get<std::string>(), r["agentLeases"]["lookedIn"].get<std::string>());
  }
  for (const Json& s : r["steps"]) {
    fmt::print("  {} {:<9} {}\n", step(s["ok"]), s["step"].get<std::string>(), s["detail"].get<std::string>());
    for (const char* list : {"pools", "policies"}) {
      if (!s.contains(list)) continue;
      for (const Json& p : s[list]) {
        fmt::print("               {} {}: {}\n", std::string(list) == "pools" ? "pool" : "policy",
                   p.value(std::string(list) == "pools" ? "pool" : "policy", ""), p.value("why", ""));
      }
    }
  }
  for (const Json& a : r.value("addresses", Json::array())) {
    bool ok = !a["owner"].get<std::string>().empty();
    fmt::print("  {} address  {}\n", step(ok), a["address"].get<std::string>());
    fmt::print("               candidates: {}\n", a["candidates"].empty() ? std::string("none")
                                                                           : fmt::format("{}", fmt::join(a["candidates"].get<std::vector<std::string>>(), ", ")));
    for (const Json& e : a["excluded"]) {
      fmt::print("               excluded {}: {}\n", e["node"].get<std::string>(), e["reason"].get<std::string>());
    }
    if (ok) {
      fmt::print("               announcer: {} on {}", a["owner"].get<std::string>(),
                 fmt::join(a["interfaces"].get<std::vector<std::string>>(), ", "));
      if (a.contains("lease")) fmt::print(" (lease renewed {})", a["lease"]["renewTime"].get<std::string>());
      fmt::print("\n");
      for (const Json& i : a.value("ownerInterfaces", Json::array())) {
        fmt::print("               {} {} {}\n", i["interface"].get<std::string>(), i["mac"].get<std::string>(),
                   i["up"].get<bool>() ? "up" : "DOWN");
      }
    }
    if (a.contains("kept")) fmt::print("               kept: {}\n", a["kept"]["why"].get<std::string>());
    if (a.contains("record")) {
      const Json& rec = a["record"];
      auto str = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
      fmt::print("               record {}: {} on {} ({}) since {}, cause {}\n", str(rec["name"]), str(rec["node"]),
                 str(rec["interfaces"]), str(rec["macs"]), str(rec["since"]), str(rec["cause"]));
    } else if (ok) {
      fmt::print("               record: none (not written yet, or the CRD l2announcements.l2announcer.io is not installed)\n");
    }
    if (a.contains("wire")) {
      const Json& w = a["wire"];
      fmt::print("               heartbeats heard from: {}\n", fmt::join(w["heard"].get<std::vector<std::string>>(), ", "));
      if (!w["accused"].empty() || !w["heldDown"].empty()) {
        fmt::print("               held dead on the wire: {}; held down (back from a silence): {} — announcer by the wire: {}\n",
                   w["accused"].empty() ? std::string("none") : fmt::format("{}", fmt::join(w["accused"].get<std::vector<std::string>>(), ", ")),
                   w["heldDown"].empty() ? std::string("none") : fmt::format("{}", fmt::join(w["heldDown"].get<std::vector<std::string>>(), ", ")),
                   w["owner"].get<std::string>().empty() ? std::string("none") : w["owner"].get<std::string>());
      }
    }
    if (a.contains("probe")) {
      const Json& p = a["probe"];
      if (p.contains("error")) {
        fmt::print("               probe: {}\n", p["error"].get<std::string>());
      } else {
        fmt::print("               probe on {}: {}\n", p["interface"].get<std::string>(), p["result"].get<std::string>());
        for (const Json& m : p["answered"]) {
          fmt::print("                 {} {}\n", m["mac"].get<std::string>(),
                     m["node"].get<std::string>().empty() ? "(not an agent's MAC)" : "= node " + m["node"].get<std::string>());
        }
      }
    }
  }
  if (r.contains("condition")) {
    const Json& c = r["condition"];
    auto str = [&c](const char* f) { return c.contains(f) && c[f].is_string() ? c[f].get<std::string>() : std::string("?"); };
    fmt::print("  condition {}={} ({}): {}\n", str("type"), str("status"), str("reason"), str("message"));
  }
  fmt::print("  => {}\n", r["verdict"].get<std::string>());
}

}  // namespace

int runExplain(const ExplainOptions& options) {
  if (options.output != "text" && options.output != "json") {
    fmt::print(stderr, "l2a: error: unknown --output '{}' (text or json)\n", options.output);
    return kExitUsage;
  }
  auto api = openCliClient(options.kubeconfig, options.context);
  if (!api) return kExitUsage;
  kube::Client& client = api->client;
  auto fetched = itemsOf(client, kube::resources::kServices);
  if (!fetched) {
    fmt::print(stderr, "l2a: error: {}\n", fetched.error().message);
    return kExitSoftware;
  }
  std::vector<Json> services = std::move(fetched).value();
  std::vector<Json> targets;
  bool byAddress = packet::parseIpAddress(options.target).has_value();
  for (const Json& s : services) {
    policy::ServiceInfo info = policy::serviceInfoFrom(s);
    bool match = byAddress ? (std::count(info.loadBalancerIPs.begin(), info.loadBalancerIPs.end(), options.target) ||
                              std::count(info.externalIPs().begin(), info.externalIPs().end(), options.target))
                           : k8s::nameOf(s) == options.target && k8s::namespaceOf(s) == options.ns;
    if (match) targets.push_back(s);
  }
  if (targets.empty()) {
    fmt::print(stderr, "l2a: error: {}\n", byAddress ? fmt::format("no Service has the address {}", options.target)
                                                     : fmt::format("Service {}/{} not found", options.ns, options.target));
    return kExitFailure;
  }

  // What else the chain needs; the first read that fails ends explain with its reason.
  std::string readError;
  // `optional`: a kind whose CRD may not be installed (Cilium's, MetalLB's): a 404 is none.
  auto read = [&](const kube::Resource& r, const std::string& ns = "", bool optional = false) {
    if (!readError.empty()) return std::vector<Json>{};
    auto items = itemsOf(client, r, ns);
    if (!items && !(optional && items.error().code == kube::ApiErrorCodes::kNotFound)) readError = items.error().message;
    return items ? std::move(items).value() : std::vector<Json>{};
  };
  std::vector<policy::L2Policy> policies;
  auto policyKinds = agent::discoverPolicyKinds(client);
  auto poolKinds = ipam::discoverPoolKinds(client);
  if (!policyKinds || !poolKinds) {
    fmt::print(stderr, "l2a: error: cannot tell which kinds are installed: {}\n",
               (!policyKinds ? policyKinds.error() : poolKinds.error()).message);
    return kExitSoftware;
  }
  std::vector<std::pair<ipam::Pool, Json>> pools;
  std::vector<ipam::Pool> metallbPools;
  for (const auto& kind : *poolKinds) {
    for (const Json& p : read(kind.resource, "", kind.optional)) {
      pools.emplace_back(ipam::parsePool(p, kind.group), p);
      if (kind.group == policy::kGroupMetallb) metallbPools.push_back(pools.back().first);
    }
  }
  for (const auto& kind : *policyKinds) {
    for (auto& p : policy::parsePolicies(read(kind.resource, "", kind.optional), kind.group, metallbPools)) {
      policies.push_back(std::move(p));
    }
  }
  // The agents' node Leases: in --agent-namespace when given; else in the chart's namespace,
  // else wherever Leases named l2a-node-* are (the output says where it looked).
  auto isNodeLease = [](const Json& l) { return k8s::nameOf(l).rfind(agent::kNodeLeasePrefix, 0) == 0; };
  std::string agentNamespace = options.agentNamespace.empty() ? kDefaultAgentNamespace : options.agentNamespace;
  std::vector<Json> leases = read(kube::resources::kLeases, agentNamespace);
  std::string lookedIn = fmt::format("namespace {}{}", agentNamespace, options.agentNamespace.empty() ? " (the default)" : "");
  if (options.agentNamespace.empty() && readError.empty() && std::none_of(leases.begin(), leases.end(), isNodeLease)) {
    std::set<std::string> found;
    if (auto all = itemsOf(client, kube::resources::kLeases, "")) {
      for (const Json& l : *all) {
        if (isNodeLease(l)) found.insert(k8s::namespaceOf(l));
      }
      lookedIn += found.empty() ? ", then every namespace: no agent's Lease anywhere"
                                : fmt::format(", then every namespace: found in {}", fmt::join(found, ", "));
    } else {
      lookedIn += fmt::format(", not elsewhere ({})", all.error().message);
    }
    if (found.size() == 1) {
      agentNamespace = *found.begin();
      leases = read(kube::resources::kLeases, agentNamespace);
    }
  }
  std::map<std::string, Json> leaseOfNode;
  for (const Json& l : leases) {
    if (isNodeLease(l)) leaseOfNode[k8s::nameOf(l).substr(std::string(agent::kNodeLeasePrefix).size())] = l;
  }
  auto now = std::chrono::system_clock::now();
  agent::ViewInputs in{
      .services = agent::eachOf(services),
      .endpointSlices = agent::eachOf(read(kube::resources::kEndpointSlices)),
      .policies = policies,
      .nodes = agent::eachOf(read(kube::resources::kNodes)),
      .leaseOf = [&](const std::string& node) -> std::optional<Json> {
        auto it = leaseOfNode.find(node);
        if (it == leaseOfNode.end()) return std::nullopt;
        return it->second;
      },
      .live = [now](const std::string& node, const Json& lease) { return agent::leaseLiveByTimestamps(node, lease, now); },
      .avoid = {.excluded = options.avoidExcludedNodes, .cordoned = options.avoidCordonedNodes}};
  if (!readError.empty()) {
    fmt::print(stderr, "l2a: error: {}\n", readError);
    return kExitSoftware;
  }
  // Who holds what, as the agents' records say (a cluster without the CRD has none): the
  // agents keep an address with its holder, and so must this plan.
  std::vector<Json> records;
  if (auto listed = client.listAll(agent::kL2Announcements, "", {.limit = 500})) {
    for (Json& item : (*listed)["items"]) records.push_back(std::move(item));
  } else if (listed.error().code != kube::ApiErrorCodes::kNotFound) {
    fmt::print(stderr, "l2a: error: cannot list l2announcements: {}\n", listed.error().message);
    return kExitSoftware;
  }
  ExplainSnapshot snapshot{.view = agent::buildClusterView(in), .plans = {}, .pools = std::move(pools),
                           .leaseOfNode = std::move(leaseOfNode), .records = std::move(records)};
  addHolders(snapshot.view, snapshot.records);
  snapshot.plans = policy::planAddresses(snapshot.view);

  Json reports = Json::array();
  bool ok = true;
  for (const Json& s : targets) {
    Json r = diagnose(s, snapshot);
    if (options.probe) {
      addWireReport(r, snapshot, [&](const std::string& address) {
        return probeOwners({.interface = options.interface, .timeoutMs = options.timeoutMs, .address = address,
                            .heartbeats = true});
      });
    }
    r["agentLeases"] = {{"namespace", agentNamespace}, {"lookedIn", lookedIn}, {"count", snapshot.leaseOfNode.size()}};
    ok = ok && r["ok"].get<bool>();
    reports.push_back(r);
  }
  if (options.output == "json") {
    fmt::print("{}\n", (reports.size() == 1 ? reports[0] : reports).dump(2));
  } else {
    for (const Json& r : reports) printText(r);
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace l2a::cli

#include "cli/explain_diagnosis.h"

#include <gtest/gtest.h>

#include "agent/agent.h"
#include "agent/cluster_view.h"
#include "ipam/lb_ipam_controller.h"

namespace l2a::cli {
namespace {

using Json = nlohmann::json;

Json service(Json spec = {{"type", "LoadBalancer"}}, Json ingress = Json::array({{{"ip", "198.18.0.1"}}})) {
  return {{"metadata", {{"name", "web"}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
          {"spec", spec},
          {"status", {{"loadBalancer", {{"ingress", ingress}}},
                      {"conditions", {{{"type", ipam::kConditionType}, {"status", "True"}, {"reason", "satisfied"},
                                       {"message", "allocated 198.18.0.1"}}}}}}};
}

Json node(const std::string& name, Json labels = Json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}}};
}

Json lease(const std::string& node, const std::string& mac) {
  return {{"metadata", {{"name", "l2a-node-" + node},
                        {"annotations", {{agent::kInterfacesAnnotation,
                                          Json{{"eth0", {{"up", true}, {"mac", mac}}}}.dump()}}}}},
          {"spec", {{"holderIdentity", node}, {"renewTime", "2026-11-28T00:00:00.000000Z"}}}};
}

// A cluster of two nodes with live Leases, the given policies and the Service.
ExplainSnapshot snapshotOf(const Json& svc, std::vector<Json> policies, std::vector<Json> nodes = {node("w1"), node("w2")}) {
  ExplainSnapshot s;
  for (const Json& n : nodes) {
    std::string name = n["metadata"]["name"];
    s.leaseOfNode[name] = lease(name, name == "w1" ? "02:00:00:00:00:01" : "02:00:00:00:00:02");
  }
  std::vector<policy::L2Policy> parsed;
  for (const Json& p : policies) parsed.push_back(policy::parsePolicy(p, "l2announcer.io"));
  agent::ViewInputs in{.services = agent::eachOf({svc}), .endpointSlices = {}, .policies = parsed, .nodes = agent::eachOf(nodes),
                       .leaseOf = [&](const std::string& n) -> std::optional<Json> {
                         auto it = s.leaseOfNode.find(n);
                         return it == s.leaseOfNode.end() ? std::nullopt : std::optional<Json>(it->second);
                       },
                       .live = [](const std::string&, const Json&) { return true; }};
  s.view = agent::buildClusterView(in);
  s.plans = policy::planAddresses(s.view);
  return s;
}

const Json kAll{{"metadata", {{"name", "all"}}}, {"spec", {{"loadBalancerIPs", true}}}};

std::string verdictOf(const Json& report) { return report["verdict"]; }

TEST(ExplainDiagnosis, NotALoadBalancer) {
  Json svc = service({{"type", "ClusterIP"}}, Json::array());
  auto r = diagnose(svc, snapshotOf(svc, {kAll}));
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_EQ(verdictOf(r).rfind("stops at service: type ClusterIP", 0), 0u) << verdictOf(r);
}

TEST(ExplainDiagnosis, NoAddressYet) {
  Json svc = service({{"type", "LoadBalancer"}}, Json::array());
  svc["status"].erase("conditions");
  auto r = diagnose(svc, snapshotOf(svc, {kAll}));
  EXPECT_EQ(verdictOf(r), "stops at ipam: no address and no IPAM condition: is l2a operator running, and does a pool exist?");
}

TEST(ExplainDiagnosis, NoPolicyAtAllOrNoneThatSelectsIt) {
  Json svc = service();
  EXPECT_EQ(verdictOf(diagnose(svc, snapshotOf(svc, {}))),
            "stops at policies: no L2AnnouncementPolicy exists, so no node announces its addresses");
  Json other{{"metadata", {{"name", "other"}}},
             {"spec", {{"loadBalancerIPs", true}, {"serviceSelector", {{"matchLabels", {{"app", "db"}}}}}}}};
  auto r = diagnose(svc, snapshotOf(svc, {other}));
  EXPECT_EQ(verdictOf(r), "stops at policies: no L2 announcement policy selects it and announces its addresses");
  EXPECT_EQ(r["steps"][2]["policies"][0]["why"], "serviceSelector does not match");
}

TEST(ExplainDiagnosis, NoCandidateNodeSaysWhyForEachNode) {
  Json svc = service();
  auto r = diagnose(svc, snapshotOf(svc, {kAll}, {node("w1", {{agent::kDrainLabel, "true"}}),
                                                   node("w2", {{agent::kExcludeFromLoadBalancersLabel, ""}})}));
  EXPECT_EQ(verdictOf(r), "stops at nodes: no candidate node for 198.18.0.1");
  const Json& excluded = r["addresses"][0]["excluded"];
  ASSERT_EQ(excluded.size(), 2u);
  EXPECT_EQ(excluded[0]["reason"], "drained (label l2announcer.io/drain; l2a uncordon w1 gives it back)");
  EXPECT_EQ(excluded[1]["reason"], "labelled node.kubernetes.io/exclude-from-external-load-balancers");
}

TEST(ExplainDiagnosis, AnnouncedNamesTheOwnerItsLeaseAndItsMacs) {
  Json svc = service();
  auto s = snapshotOf(svc, {kAll});
  auto r = diagnose(svc, s);
  EXPECT_TRUE(r["ok"].get<bool>());
  EXPECT_EQ(verdictOf(r), "announced");
  std::string owner = r["addresses"][0]["owner"];
  EXPECT_EQ(owner, s.plans.at("198.18.0.1").owner());
  EXPECT_EQ(r["addresses"][0]["lease"]["renewTime"], "2026-11-28T00:00:00.000000Z");
  EXPECT_EQ(r["addresses"][0]["ownerInterfaces"][0]["mac"], owner == "w1" ? "02:00:00:00:00:01" : "02:00:00:00:00:02");
}

// The wire, with the probe passed in: each answer compared with the plan's owner.
TEST(ExplainDiagnosis, TheWireAgreesOrNot) {
  Json svc = service();
  auto s = snapshotOf(svc, {kAll});
  std::string owner = s.plans.at("198.18.0.1").owner();
  std::string ownerMac = owner == "w1" ? "02:00:00:00:00:01" : "02:00:00:00:00:02";
  std::string otherMac = owner == "w1" ? "02:00:00:00:00:02" : "02:00:00:00:00:01";
  auto withAnswers = [&](std::vector<std::string> macs) {
    Json r = diagnose(svc, s);
    addWireReport(r, s, [&](const std::string&) -> Result<ProbeResult> { return ProbeResult{"eth0", "198.18.0.9", macs, {}}; });
    return r;
  };
  EXPECT_EQ(verdictOf(withAnswers({ownerMac})), "announced");
  EXPECT_EQ(verdictOf(withAnswers({})), "on the wire for 198.18.0.1: nobody answered");
  EXPECT_EQ(verdictOf(withAnswers({otherMac})), "on the wire for 198.18.0.1: someone else answered");
  EXPECT_EQ(verdictOf(withAnswers({ownerMac, otherMac})), "on the wire for 198.18.0.1: conflict: several MACs answered");
  Json r = withAnswers({"02:00:00:00:00:99"});
  EXPECT_EQ(r["addresses"][0]["probe"]["answered"][0]["node"], "");  // not an agent's MAC
  Json failed = diagnose(svc, s);
  addWireReport(failed, s, [](const std::string&) -> Result<ProbeResult> { return fail("system", "no such interface"); });
  EXPECT_EQ(failed["addresses"][0]["probe"]["error"], "no such interface");
}

}  // namespace
}  // namespace l2a::cli

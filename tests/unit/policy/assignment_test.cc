#include "policy/assignment.h"

#include <gtest/gtest.h>

#include <cmath>

#include "policy/rendezvous.h"

namespace l2a::policy {
namespace {

using Json = nlohmann::json;

L2Policy policyOf(Json spec, const std::string& name = "p") {
  return parsePolicy({{"metadata", {{"name", name}}}, {"spec", spec}}, "l2announcer.io");
}

const Json kSeedPolicy = Json::parse(R"({"serviceSelector":{"matchLabels":{"announcement":"l2"}},
  "nodeSelector":{"matchExpressions":[{"key":"node-role.kubernetes.io/control-plane","operator":"DoesNotExist"}]},
  "interfaces":["^eth0$"],"loadBalancerIPs":true})");

ServiceInfo serviceInfo(const std::string& name, std::vector<std::string> ips, bool local = false) {
  ServiceInfo s;
  s.key = "default/" + name;
  s.labels = {{"announcement", "l2"}};
  s.handled = true;
  s.loadBalancerIPs = std::move(ips);
  s.local = local;
  return s;
}

std::shared_ptr<const ServiceInfo> service(const std::string& name, std::vector<std::string> ips, bool local = false) {
  return std::make_shared<const ServiceInfo>(serviceInfo(name, std::move(ips), local));
}

NodeInfo node(const std::string& name, bool controlPlane = false) {
  NodeInfo n{.name = name, .live = true};
  if (controlPlane) n.labels["node-role.kubernetes.io/control-plane"] = "";
  n.interfaces = std::map<std::string, bool>{{"eth0", true}};
  return n;
}

ClusterView seedView(int services, int workers) {
  ClusterView v;
  v.policies.push_back(policyOf(kSeedPolicy));
  v.nodes.push_back(node("cp", true));
  for (int i = 0; i < workers; ++i) v.nodes.push_back(node("w" + std::to_string(i)));
  for (int i = 0; i < services; ++i) v.services.push_back(service("s" + std::to_string(i), {"198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256)}));
  return v;
}

TEST(Rendezvous, SameInputSameOwnerAndEvenSpread) {
  std::vector<Candidate> nodes{{"a"}, {"b"}, {"c"}, {"d"}};
  std::map<std::string, int> counts;
  for (int i = 0; i < 20000; ++i) {
    std::string key = "198.18.0." + std::to_string(i);
    std::string owner = chooseOwner(key, nodes);
    EXPECT_EQ(owner, chooseOwner(key, {{"d"}, {"c"}, {"b"}, {"a"}}));  // order does not matter
    ++counts[owner];
  }
  for (const auto& [n, c] : counts) EXPECT_NEAR(c, 5000, 400) << n;
}

TEST(Rendezvous, RemovingANodeMovesOnlyItsKeys) {
  std::vector<Candidate> all{{"a"}, {"b"}, {"c"}}, without{{"a"}, {"c"}};
  int moved = 0, owned = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string key = "k" + std::to_string(i);
    std::string before = chooseOwner(key, all), after = chooseOwner(key, without);
    if (before == "b") {
      ++owned;
    } else {
      EXPECT_EQ(before, after) << key;
    }
    if (before != after) ++moved;
  }
  EXPECT_EQ(moved, owned);
}

TEST(Rendezvous, WeightsBiasTheChoice) {
  std::vector<Candidate> nodes{{"light", 1.0}, {"heavy", 3.0}};
  int heavy = 0;
  for (int i = 0; i < 20000; ++i) heavy += chooseOwner("k" + std::to_string(i), nodes) == "heavy";
  EXPECT_NEAR(heavy / 20000.0, 0.75, 0.02);
  EXPECT_EQ(chooseOwner("k", {{"zero", 0.0}}), "zero");  // weight 0: only as the last resort
  EXPECT_EQ(chooseOwner("k", {{"zero", 0.0}, {"one", 1.0}}), "one");
  EXPECT_EQ(chooseOwner("k", {}), "");
}

TEST(Assignment, SeedPolicyExcludesTheControlPlaneAndSpreads) {
  auto plans = planAddresses(seedView(300, 3));
  ASSERT_EQ(plans.size(), 300u);
  std::map<std::string, int> counts;
  for (const auto& [a, p] : plans) {
    EXPECT_EQ(p.candidates().size(), 3u);
    ASSERT_EQ(p.excluded().size(), 1u);
    EXPECT_EQ(p.excluded()[0].node, "cp");
    EXPECT_NE(p.excluded()[0].reason.find("nodeSelector"), std::string::npos);
    EXPECT_EQ(p.interfacePatterns(), std::vector<std::string>{"^eth0$"});
    ++counts[p.owner()];
  }
  EXPECT_EQ(counts.count("cp"), 0u);
  for (const auto& [n, c] : counts) EXPECT_GT(c, 70) << n;
}

// MetalLB's L2Advertisement, read live: the pools it names scope which addresses it announces,
// any of its nodeSelectors picks the nodes, its interfaces are names.
Json metallbPoolJson(const std::string& name, Json addresses, Json labels = Json::object()) {
  return {{"metadata", {{"name", name}, {"namespace", "metallb-system"}, {"labels", labels}}},
          {"spec", {{"addresses", addresses}}}};
}

Json advertisement(Json spec, const std::string& ns = "metallb-system") {
  return {{"metadata", {{"name", "example"}, {"namespace", ns}}}, {"spec", spec}};
}

TEST(Assignment, MetallbAdvertisementAnnouncesOnlyTheAddressesOfItsPools) {
  std::vector<ipam::Pool> pools{ipam::parsePool(metallbPoolJson("first-pool", {"198.18.0.192/28"}), "metallb.io"),
                                ipam::parsePool(metallbPoolJson("other", {"198.18.1.0/24"}, {{"zone", "b"}}), "metallb.io")};
  ClusterView v;
  v.policies = parsePolicies({advertisement({{"ipAddressPools", {"first-pool"}},
                                             {"interfaces", {"eth0.100"}},
                                             {"nodeSelectors", {{{"matchLabels", {{"rack", "1"}}}},
                                                                {{"matchLabels", {{"rack", "2"}}}}}}})},
                             "metallb.io", pools);
  ASSERT_EQ(v.policies.size(), 2u);  // one per node selector
  EXPECT_TRUE(v.policies[0].valid());
  EXPECT_EQ(v.policies[0].interfaces, std::vector<std::string>{"^eth0\\.100$"});
  EXPECT_FALSE(v.policies[0].interfaceSelector.matches("eth0x100"));
  for (const char* name : {"n1", "n2", "n3"}) v.nodes.push_back(node(name));
  v.nodes[0].labels["rack"] = "1";
  v.nodes[1].labels["rack"] = "2";
  for (auto& n : v.nodes) n.interfaces = std::map<std::string, bool>{{"eth0.100", true}};
  v.services.push_back(service("in", {"198.18.0.200"}));
  v.services.push_back(service("out", {"198.18.1.5"}));
  auto plans = planAddresses(v);
  ASSERT_EQ(plans.count("198.18.0.200"), 1u);
  EXPECT_EQ(plans.count("198.18.1.5"), 0u) << "an address of a pool the advertisement does not name was announced";
  EXPECT_EQ(plans["198.18.0.200"].candidates(), (std::vector<std::string>{"n1", "n2"}));
  // By label instead of by name; a pool in another namespace is not MetalLB's.
  v.policies = parsePolicies({advertisement({{"ipAddressPoolSelectors", {{{"matchLabels", {{"zone", "b"}}}}}}})}, "metallb.io", pools);
  plans = planAddresses(v);
  EXPECT_EQ(plans.count("198.18.0.200"), 0u);
  EXPECT_EQ(plans["198.18.1.5"].candidates().size(), 3u);
  EXPECT_EQ(v.policies[0].interfaces.size(), 0u);  // no interfaces: every one the agent uses
  v.policies = parsePolicies({advertisement({{"ipAddressPools", {"first-pool"}}}, "elsewhere")}, "metallb.io", pools);
  EXPECT_TRUE(planAddresses(v).empty());
  // Naming no pool: every address.
  v.policies = parsePolicies({advertisement(Json::object())}, "metallb.io", pools);
  EXPECT_EQ(planAddresses(v).size(), 2u);
}

TEST(Assignment, MalformedMetallbAdvertisementIsInvalidNeverAnException) {
  auto bad = parsePolicies({advertisement({{"ipAddressPools", "first-pool"}}), advertisement({{"nodeSelectors", {{{"matchExpressions", 3}}}}})},
                           "metallb.io", {});
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].errors.at(0).first, "MalformedObject");
  EXPECT_EQ(bad[1].errors.at(0).first, "InvalidNodeSelector");
}

TEST(Assignment, DeadOrInterfaceDownNodesAreNotCandidates) {
  ClusterView v = seedView(50, 3);
  v.nodes[1].live = false;
  v.nodes[2].interfaces = std::map<std::string, bool>{{"eth0", false}, {"eth1", true}};
  for (const auto& [a, p] : planAddresses(v)) {
    EXPECT_EQ(p.owner(), "w2");
    EXPECT_EQ(p.candidates(), std::vector<std::string>{"w2"});
  }
  auto plan = planAddresses(v).begin()->second;
  std::map<std::string, std::string> why;
  for (const auto& e : plan.excluded()) why[e.node] = e.reason;
  EXPECT_NE(why["w0"].find("lease"), std::string::npos);
  EXPECT_NE(why["w1"].find("interface"), std::string::npos);
}

TEST(Assignment, SharedAddressHasOnePlanAndUnionOfInterfaces) {
  ClusterView v;
  v.policies.push_back(policyOf({{"loadBalancerIPs", true}, {"interfaces", {"eth0"}}}, "a"));
  v.policies.push_back(policyOf({{"loadBalancerIPs", true}, {"interfaces", {"bond0"}}}, "b"));
  v.nodes = {node("n1"), node("n2")};
  v.services = {service("x", {"198.18.0.1"}), service("y", {"198.18.0.1"})};
  auto plans = planAddresses(v);
  ASSERT_EQ(plans.size(), 1u);
  const AddressPlan& p = plans["198.18.0.1"];
  EXPECT_EQ(p.services.size(), 2u);
  EXPECT_EQ(p.interfacePatterns(), (std::vector<std::string>{"eth0", "bond0"}));
}

TEST(Assignment, AddressKindsAndClassesAndInvalidPolicies) {
  ClusterView v;
  v.nodes = {node("n1")};
  ServiceInfo s = serviceInfo("x", {"198.18.0.1"});
  s.setExternalIPs({"198.18.9.9"});
  v.services = {std::make_shared<const ServiceInfo>(s)};
  v.policies = {policyOf({{"externalIPs", true}})};
  auto plans = planAddresses(v);
  EXPECT_EQ(plans.size(), 1u);
  EXPECT_TRUE(plans.count("198.18.9.9"));
  v.policies = {policyOf(Json::object())};  // both kinds default false
  EXPECT_TRUE(planAddresses(v).empty());
  v.policies = {policyOf({{"loadBalancerIPs", true}, {"interfaces", {"eth["}}})};
  EXPECT_FALSE(v.policies[0].valid());
  EXPECT_EQ(v.policies[0].errors[0].first, "InvalidInterfaces");
  EXPECT_TRUE(planAddresses(v).empty());
  v.policies = {policyOf({{"loadBalancerIPs", true}})};
  s.handled = false;  // another class
  v.services = {std::make_shared<const ServiceInfo>(s)};
  EXPECT_TRUE(planAddresses(v).empty());
}

TEST(Assignment, LocalServicesOnlyOnNodesWithReadyEndpoints) {
  ClusterView v = seedView(0, 3);
  v.services = {service("local", {"198.18.0.7"}, true)};
  EXPECT_EQ(planAddresses(v)["198.18.0.7"].owner(), "");
  ServiceInfo local = serviceInfo("local", {"198.18.0.7"}, true);
  local.setReadyEndpointNodes({"w1"});
  v.services = {std::make_shared<const ServiceInfo>(local)};
  auto plan = planAddresses(v)["198.18.0.7"];
  EXPECT_EQ(plan.owner(), "w1");
  EXPECT_EQ(plan.candidates(), std::vector<std::string>{"w1"});
}

TEST(Assignment, ServiceSelectorsReadLabelsAndThePseudoLabelsFromTheKey) {
  // A label naming a pseudo-label does not override it (the key is the truth).
  auto s = serviceInfoFrom(Json::parse(R"({"metadata":{"name":"web","namespace":"prod",
    "labels":{"tier":"front","io.kubernetes.service.namespace":"other"}},"spec":{"type":"LoadBalancer"}})"));
  auto selector = [](const char* text) { return *k8s::LabelSelector::fromJson(Json::parse(text)); };
  EXPECT_TRUE(s.selectedBy(selector(R"({"matchLabels":{"io.kubernetes.service.namespace":"prod","tier":"front"}})")));
  EXPECT_FALSE(s.selectedBy(selector(R"({"matchLabels":{"io.kubernetes.service.namespace":"other"}})")));
  EXPECT_TRUE(s.selectedBy(selector(R"({"matchExpressions":[{"key":"io.kubernetes.service.name","operator":"In","values":["api","web"]}]})")));
  EXPECT_FALSE(s.selectedBy(selector(R"({"matchExpressions":[{"key":"tier","operator":"NotIn","values":["front"]}]})")));
  EXPECT_TRUE(s.selectedBy(selector(R"({"matchExpressions":[{"key":"team","operator":"DoesNotExist"}]})")));
  EXPECT_FALSE(s.selectedBy(selector(R"({"matchExpressions":[{"key":"team","operator":"Exists"}]})")));
  EXPECT_TRUE(s.selectedBy(selector("{}")));
}

TEST(Assignment, ServiceInfoFromAServiceObject) {
  auto s = serviceInfoFrom(Json::parse(R"({"metadata":{"name":"web","namespace":"prod","labels":{"a":"b"}},
    "spec":{"type":"LoadBalancer","loadBalancerClass":"io.cilium/l2-announcer","externalIPs":["198.18.3.3"],
            "externalTrafficPolicy":"Local"},
    "status":{"loadBalancer":{"ingress":[{"ip":"198.18.0.1"},{"ip":"2001:db8::1"}]}}})"));
  EXPECT_TRUE(s.handled);
  EXPECT_TRUE(s.local);
  EXPECT_EQ(s.key, "prod/web");
  EXPECT_EQ(s.label("io.kubernetes.service.namespace"), "prod");
  EXPECT_EQ(s.label("io.kubernetes.service.name"), "web");
  EXPECT_EQ(s.label("a"), "b");
  EXPECT_EQ(s.label("b"), std::nullopt);
  EXPECT_EQ(s.loadBalancerIPs.size(), 2u);
  EXPECT_EQ(s.externalIPs(), std::vector<std::string>{"198.18.3.3"});
  EXPECT_FALSE(serviceInfoFrom(Json::parse(R"({"spec":{"type":"LoadBalancer","loadBalancerClass":"x/y"}})")).handled);
}

}  // namespace
}  // namespace l2a::policy

namespace l2a::policy {
namespace {

// Stickiness: a view of 3 workers and one address, held by `holders`.
struct Sticky {
  ClusterView view = seedView(1, 3);
  std::string address = "198.18.0.0";
  std::string preferred() { return planAddresses(view).at(address).preferred(); }
  std::string owner() { return planAddresses(view).at(address).owner(); }
  std::string other(const std::string& not1, const std::string& not2 = "") {
    for (const char* n : {"w0", "w1", "w2"}) {
      if (n != not1 && n != not2) return n;
    }
    return "";
  }
  NodeInfo& nodeNamed(const std::string& name) {
    return *std::find_if(view.nodes.begin(), view.nodes.end(), [&](const NodeInfo& n) { return n.name == name; });
  }
};

TEST(Stickiness, AHolderThatMayStillAnnounceKeepsTheAddressWhenTheBestRankedComesBack) {
  Sticky s;
  std::string best = s.preferred();
  std::string holder = s.other(best);
  s.view.holders[s.address] = {holder};
  EXPECT_EQ(s.owner(), holder);
  EXPECT_EQ(s.preferred(), best);
  s.view.rebalance = true;  // rebalancing: only a holder that is the best keeps it; this one is not
  EXPECT_EQ(s.owner(), holder);
  s.view.holders[s.address].insert(best);  // the best took it back: it keeps it now
  EXPECT_EQ(s.owner(), best);
}

TEST(Stickiness, AHolderThatMayNoLongerAnnounceKeepsNothing) {
  Sticky s;
  std::string best = s.preferred();
  std::string holder = s.other(best);
  s.view.holders[s.address] = {holder};
  s.nodeNamed(holder).live = false;  // its Lease went
  EXPECT_EQ(s.owner(), best);
  s.nodeNamed(holder).live = true;
  s.nodeNamed(holder).avoided = "drained";
  EXPECT_EQ(s.owner(), best);
  s.nodeNamed(holder).avoided.clear();
  s.nodeNamed(holder).weight = 0;  // held down on the wire after a silence: a last resort
  EXPECT_EQ(s.owner(), best);
  s.nodeNamed(holder).weight = 1;
  s.view.holders[s.address] = {"cp"};  // not selected by the policy
  EXPECT_EQ(s.owner(), best);
  s.view.holders[s.address] = {"gone"};  // no such node
  EXPECT_EQ(s.owner(), best);
}

TEST(Stickiness, AmongSeveralHoldersTheRecordedOneElseTheBestRankedKeepsIt) {
  Sticky s;
  std::string best = s.preferred();
  std::string a = s.other(best), b = s.other(best, a);
  s.view.holders[s.address] = {a, b};
  std::string ranked = chooseOwner(s.address, {{a}, {b}});
  EXPECT_EQ(s.owner(), ranked);  // every agent picks the same one
  std::string unranked = ranked == a ? b : a;
  s.view.recorded[s.address] = unranked;  // the last to take it over: it keeps it
  EXPECT_EQ(s.owner(), unranked);
  s.view.holders[s.address].insert(best);  // a thawed best-ranked node still announcing it
  EXPECT_EQ(s.owner(), unranked);
  s.view.rebalance = true;  // ...unless rebalancing gives it back
  EXPECT_EQ(s.owner(), best);
  s.view.rebalance = false;
  s.view.recorded[s.address] = "w9";  // a record naming a node that holds nothing: ignored
  EXPECT_EQ(s.owner(), best);
}

// Every plan notes each address's successor: the owner a plan made with the owner gone (its
// Lease or heartbeats lost) picks — with holders, records, weights and rebalancing in play.
TEST(Stickiness, TheSuccessorIsWhoOwnsAnAddressOnceItsOwnerIsGone) {
  ClusterView view = seedView(600, 6);
  view.nodes[2].weight = 2;
  view.nodes[3].weight = 0;  // a last resort
  const std::vector<std::string> workers = {"w0", "w1", "w2", "w3", "w4", "w5"};
  for (int i = 0; i < 600; ++i) {
    std::string address = "198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    if (i % 3 == 0) view.holders[address] = {workers[i % 6]};             // a holder keeps it
    if (i % 4 == 0) view.holders[address].insert(workers[(i / 4 + 1) % 6]);  // two: a hand-over
    if (i % 7 == 0) view.recorded[address] = workers[(i / 7) % 6];        // its record
  }
  for (bool rebalance : {false, true}) {
    view.rebalance = rebalance;
    auto plans = planAddresses(view);
    size_t checked = 0, fromHolders = 0;  // successors a holder or a record decides
    for (const std::string& gone : workers) {
      ClusterView without = view;
      for (NodeInfo& n : without.nodes) n.live = n.live && n.name != gone;
      auto after = planAddresses(without);
      for (const auto& [address, plan] : plans) {
        if (plan.owner() != gone) continue;
        ++checked;
        const auto& weighted = plan.nodes->weighted;
        auto [best, second] = rankTwo(address, weighted);
        const std::string& next = weighted[best].node == gone ? weighted.at(second).node : weighted[best].node;
        fromHolders += plan.successor() != next;
        EXPECT_EQ(plan.successor(), after.at(address).owner()) << address << " owned by " << gone << " rebalance=" << rebalance;
      }
    }
    EXPECT_EQ(checked, 600u);
    EXPECT_GT(fromHolders, 20u);
  }
  ClusterView alone = seedView(1, 1);
  EXPECT_EQ(planAddresses(alone).at("198.18.0.0").successor(), "");  // nobody else could
}

}  // namespace
}  // namespace l2a::policy

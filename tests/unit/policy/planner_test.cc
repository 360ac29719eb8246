// Planner: the incremental planner gives planAddresses' plans after every kind of change, and
// plans again only what the change touches.
#include <gtest/gtest.h>

#include <random>

#include "policy/assignment.h"

namespace l2a::policy {
namespace {

using Json = nlohmann::json;

L2Policy policyOf(Json spec, const std::string& name) {
  return parsePolicy({{"metadata", {{"name", name}}}, {"spec", spec}}, "l2announcer.io");
}

std::string ipOf(int i) { return "198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256); }

NodeInfo nodeNamed(const std::string& name) {
  return {.name = name, .labels = {{"zone", "a"}}, .live = true, .interfaces = std::map<std::string, bool>{{"eth0", true}}};
}

// Every field of every plan, as text: a difference names the address and the field.
std::string describe(const std::map<std::string, AddressPlan>& plans) {
  std::string out;
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x + ",";
    return s;
  };
  for (const auto& [address, p] : plans) {
    out += address + " services=" + list(p.services) + " policies=" + list(p.policies()) +
           " patterns=" + list(p.interfacePatterns()) + (p.allInterfaces() ? " all" : "") + " candidates=";
    for (const auto& c : p.nodes->weighted) out += c.node + "/" + std::to_string(c.weight) + ",";
    out += " excluded=";
    for (const auto& e : p.excluded()) out += e.node + ":" + e.reason + ",";
    out += " owner=" + p.owner() + " preferred=" + p.preferred() + " successor=" + p.successor() +
           " runnerUp=" + p.runnerUp() + " stickiness=" + std::to_string(p.stickiness) + "\n";
  }
  return out;
}

// A random cluster that random changes are made to, the Services changed kept as the agent's
// index keeps them.
struct Cluster {
  std::mt19937 random{7};
  ClusterView view;
  std::set<std::string> changed;
  int nextService = 0, nextNode = 0;

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); }

  std::shared_ptr<const ServiceInfo> randomService(const std::string& key) {
    ServiceInfo s{.key = key, .handled = pick(8) != 0, .local = pick(6) == 0};
    s.labels = k8s::PackedLabels{{"tier", pick(2) ? "web" : "db"}};
    // Addresses from a small range, so Services share some.
    for (int i = 0, n = pick(3); i < n; ++i) s.loadBalancerIPs.push_back(ipOf(pick(60)));
    if (pick(5) == 0) s.setExternalIPs({ipOf(200 + pick(10))});
    if (s.local && !view.nodes.empty()) s.setReadyEndpointNodes({view.nodes[pick(view.nodes.size())].name});
    return std::make_shared<const ServiceInfo>(std::move(s));
  }

  void addService() {
    std::string key = "ns" + std::to_string(pick(3)) + "/svc-" + std::to_string(nextService++);
    view.services.push_back(randomService(key));
    changed.insert(key);
  }

  void addNode() {
    NodeInfo n = nodeNamed("node-" + std::to_string(nextNode++));
    if (pick(3) == 0) n.labels["zone"] = "b";
    view.nodes.push_back(std::move(n));
  }

  Cluster() {
    view.policies = {policyOf({{"loadBalancerIPs", true}, {"interfaces", {"^eth0$"}},
                               {"serviceSelector", {{"matchLabels", {{"tier", "web"}}}}}}, "web"),
                     policyOf({{"loadBalancerIPs", true}, {"nodeSelector", {{"matchLabels", {{"zone", "a"}}}}}}, "zone-a"),
                     policyOf({{"externalIPs", true}, {"interfaces", {"^eth1$"}}}, "external")};
    for (int i = 0; i < 8; ++i) addNode();
    for (int i = 0; i < 80; ++i) addService();
  }

  std::string anAddress() { return pick(4) == 0 ? ipOf(200 + pick(10)) : ipOf(pick(60)); }

  // One random change of any kind the planner is told of or finds.
  void change() {
    switch (pick(12)) {
      case 0:
      case 1: {  // a Service changes
        auto& s = view.services[pick(view.services.size())];
        s = randomService(s->key);
        changed.insert(s->key);
        break;
      }
      case 2:
        addService();
        break;
      case 3: {  // a Service goes
        size_t i = pick(view.services.size());
        changed.insert(view.services[i]->key);
        view.services.erase(view.services.begin() + i);
        break;
      }
      case 4: {  // a node dies or comes back
        auto& n = view.nodes[pick(view.nodes.size())];
        n.live = !n.live;
        break;
      }
      case 5:
        view.nodes[pick(view.nodes.size())].weight = pick(3);
        break;
      case 6: {
        auto& n = view.nodes[pick(view.nodes.size())];
        n.avoided = n.avoided.empty() ? "drained" : "";
        break;
      }
      case 7: {
        auto& n = view.nodes[pick(view.nodes.size())];
        (*n.interfaces)[pick(2) ? "eth0" : "eth1"] = pick(2);
        n.labels["zone"] = pick(2) ? "a" : "b";
        break;
      }
      case 8:
        if (pick(2) || view.nodes.size() < 3) {
          addNode();
        } else {
          view.nodes.erase(view.nodes.begin() + pick(view.nodes.size()));
        }
        break;
      case 9: {  // who holds an address
        std::string address = anAddress();
        if (pick(3) == 0) {
          view.holders.erase(address);
        } else {
          view.holders[address].insert(view.nodes[pick(view.nodes.size())].name);
        }
        break;
      }
      case 10: {
        std::string address = anAddress();
        if (pick(2)) {
          view.recorded[address] = view.nodes[pick(view.nodes.size())].name;
        } else {
          view.recorded.erase(address);
        }
        break;
      }
      case 11:  // seldom: rebalancing or a policy
        if (pick(4) == 0) {
          view.rebalance = !view.rebalance;
        } else if (pick(4) == 0) {
          view.policies[1] = policyOf({{"loadBalancerIPs", true}, {"nodeSelector", {{"matchLabels", {{"zone", pick(2) ? "a" : "b"}}}}}},
                                      "zone-a");
        }
        break;
    }
  }
};

TEST(Planner, SamePlansAsAFullPlanAfterEveryChange) {
  Cluster cluster;
  Planner planner;
  planner.plan(cluster.view, nullptr);
  cluster.changed.clear();
  size_t incremental = 0;
  for (int step = 0; step < 1500; ++step) {
    int changes = 1 + cluster.pick(3);
    for (int i = 0; i < changes; ++i) cluster.change();
    const auto& plans = planner.plan(cluster.view, &cluster.changed);
    cluster.changed.clear();
    if (!planner.lastFull()) ++incremental;
    ASSERT_EQ(describe(plans), describe(planAddresses(cluster.view))) << "step " << step;
  }
  EXPECT_GT(incremental, 1000u);  // most steps were planned incrementally, not all again
}

TEST(Planner, ServicesInKeyOrderAsTheAgentGivesThem) {
  Cluster cluster;
  Planner planner;
  auto byKey = [&] {
    std::sort(cluster.view.services.begin(), cluster.view.services.end(),
              [](const auto& a, const auto& b) { return a->key < b->key; });
  };
  byKey();
  cluster.view.servicesInKeyOrder = true;
  planner.plan(cluster.view, nullptr);
  cluster.changed.clear();
  for (int step = 0; step < 300; ++step) {
    cluster.change();
    byKey();
    const auto& plans = planner.plan(cluster.view, &cluster.changed);
    cluster.changed.clear();
    ASSERT_EQ(describe(plans), describe(planAddresses(cluster.view))) << "step " << step;
  }
}

// 20 nodes, 2,000 addresses, one policy: what each change plans again.
struct Large {
  ClusterView view;
  Planner planner;
  Large() {
    view.policies = {policyOf({{"loadBalancerIPs", true}}, "all")};
    view.servicesInKeyOrder = true;
    for (int n = 0; n < 20; ++n) view.nodes.push_back(nodeNamed("node-" + std::to_string(n)));
    for (int a = 0; a < 2000; ++a) {
      char key[32];
      snprintf(key, sizeof key, "default/svc-%05d", a);
      view.services.push_back(std::make_shared<const ServiceInfo>(ServiceInfo{.key = key, .handled = true, .loadBalancerIPs = {ipOf(a)}}));
    }
    planner.plan(view, nullptr);
  }
  void check() { ASSERT_EQ(describe(planner.plans()), describe(planAddresses(view))); }
};

TEST(Planner, PlansAgainOnlyWhatAChangeTouches) {
  Large large;
  EXPECT_TRUE(large.planner.lastFull());
  EXPECT_EQ(large.planner.lastPlanned(), 2000u);
  std::set<std::string> none;
  large.planner.plan(large.view, &none);
  EXPECT_FALSE(large.planner.lastFull());
  EXPECT_EQ(large.planner.lastPlanned(), 0u);

  // One Service's address moves: its old address and its new one.
  std::set<std::string> one{large.view.services[5]->key};
  large.view.services[5] = std::make_shared<const ServiceInfo>(
      ServiceInfo{.key = large.view.services[5]->key, .handled = true, .loadBalancerIPs = {ipOf(3000)}});
  large.planner.plan(large.view, &one);
  EXPECT_EQ(large.planner.lastPlanned(), 2u);
  large.check();

  // A node dies: what it owned, was second for or next after — about 2 × 2,000 / 20 — not all.
  size_t owned = 0;
  for (const auto& [address, plan] : large.planner.plans()) owned += plan.owner() == "node-3";
  large.view.nodes[3].live = false;
  large.planner.plan(large.view, &none);
  EXPECT_GE(large.planner.lastPlanned(), owned);
  EXPECT_LT(large.planner.lastPlanned(), 400u);
  large.check();

  // It comes back: what it outranks the second choice of, about 2 × 2,000 / 20.
  large.view.nodes[3].live = true;
  large.planner.plan(large.view, &none);
  EXPECT_GT(large.planner.lastPlanned(), 0u);
  EXPECT_LT(large.planner.lastPlanned(), 400u);
  large.check();

  // A holder named for one address: that address only.
  large.view.holders[ipOf(7)] = {"node-9"};
  large.planner.plan(large.view, &none);
  EXPECT_EQ(large.planner.lastPlanned(), 1u);
  large.check();
}

TEST(Planner, NoListOfChangesOrAPolicyChangedPlansEverything) {
  Large large;
  large.planner.plan(large.view, nullptr);
  EXPECT_TRUE(large.planner.lastFull());
  std::set<std::string> none;
  large.view.policies[0] = policyOf({{"loadBalancerIPs", true}, {"interfaces", {"^eth0$"}}}, "all");
  large.planner.plan(large.view, &none);
  EXPECT_TRUE(large.planner.lastFull());
  large.check();
}

}  // namespace
}  // namespace l2a::policy

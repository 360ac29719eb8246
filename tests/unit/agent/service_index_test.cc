#include "agent/service_index.h"

#include <gtest/gtest.h>

#include <set>

namespace l2a::agent {
namespace {

using Json = nlohmann::json;

Json service(const std::string& name, const std::string& ip) {
  return {{"metadata", {{"namespace", "shop"}, {"name", name}, {"uid", "u-" + name}, {"labels", {{"app", name}}}}},
          {"spec", {{"type", "LoadBalancer"}, {"externalTrafficPolicy", "Local"}}},
          {"status", {{"loadBalancer", {{"ingress", {{{"ip", ip}}}}}}}}};
}

Json slice(const std::string& name, const std::string& service, const std::vector<std::pair<std::string, Json>>& endpoints) {
  Json list = Json::array();
  for (const auto& [node, ready] : endpoints) {
    Json e{{"nodeName", node}, {"addresses", {"10.0.0.1"}}};
    if (!ready.is_null()) e["conditions"] = {{"ready", ready}};
    list.push_back(e);
  }
  return {{"metadata", {{"namespace", "shop"}, {"name", name}, {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"endpoints", list}};
}

TEST(ServiceIndex, OnlyChangesAPlanReadsCountAndServicesCarryTheirReadyNodes) {
  ServiceIndex index({});
  EXPECT_TRUE(index.serviceSeen(service("web", "198.18.0.10")));
  EXPECT_FALSE(index.serviceSeen(service("web", "198.18.0.10")));  // the same again
  Json conditioned = service("web", "198.18.0.10");
  conditioned["status"]["conditions"] = {{{"type", "Announced"}, {"status", "True"}}};
  EXPECT_FALSE(index.serviceSeen(conditioned));  // a condition is nothing a plan reads
  EXPECT_TRUE(index.serviceSeen(service("web", "198.18.0.11")));  // its address moved
  // Ready endpoints: unset means ready; false or anything but a boolean does not.
  EXPECT_TRUE(index.sliceSeen(slice("web-a", "web", {{"w1", nullptr}, {"w2", false}, {"w3", "yes"}})));
  EXPECT_TRUE(index.sliceSeen(slice("web-b", "web", {{"w4", true}})));
  Json moved = slice("web-a", "web", {{"w1", nullptr}, {"w2", false}, {"w3", "yes"}});
  moved["endpoints"][0]["addresses"] = {"10.0.0.2"};
  EXPECT_FALSE(index.sliceSeen(moved));  // an endpoint's address: the same ready nodes
  auto services = index.services();
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0]->key, "shop/web");
  EXPECT_EQ(services[0]->loadBalancerIPs, std::vector<std::string>{"198.18.0.11"});
  EXPECT_EQ(services[0]->readyEndpointNodes(), (std::set<std::string>{"w1", "w4"}));
  // A slice relabelled to another Service leaves the first; one gone takes its nodes along.
  // What a plan holds stays as it read it.
  EXPECT_TRUE(index.sliceSeen(slice("web-b", "db", {{"w4", true}})));
  EXPECT_EQ(services[0]->readyEndpointNodes(), (std::set<std::string>{"w1", "w4"}));
  EXPECT_EQ(index.services()[0]->readyEndpointNodes(), std::set<std::string>{"w1"});
  EXPECT_TRUE(index.sliceGone(slice("web-a", "web", {})));
  EXPECT_TRUE(index.services()[0]->readyEndpointNodes().empty());
  EXPECT_FALSE(index.sliceGone(slice("web-a", "web", {})));  // gone already
  // A slice without ready endpoints changes nothing, coming or going.
  EXPECT_FALSE(index.sliceSeen(slice("web-c", "web", {{"w5", false}})));
  EXPECT_FALSE(index.sliceGone(slice("web-c", "web", {})));
  EXPECT_TRUE(index.serviceGone(service("web", "")));
  EXPECT_FALSE(index.serviceGone(service("web", "")));
  EXPECT_EQ(index.size(), 0u);
}

TEST(ServiceIndex, SlicesSeenBeforeTheirServiceCount) {
  ServiceIndex index({});
  EXPECT_TRUE(index.sliceSeen(slice("web-a", "web", {{"w1", true}})));
  EXPECT_TRUE(index.services().empty());
  EXPECT_TRUE(index.serviceSeen(service("web", "198.18.0.10")));
  ASSERT_EQ(index.services().size(), 1u);
  EXPECT_EQ(index.services()[0]->readyEndpointNodes(), std::set<std::string>{"w1"});
}

// Most of a cluster's Services are no LoadBalancer of ours: the index keeps their key and uid
// only, and nothing of them (labels, addresses, ready nodes) wakes a plan — until one becomes
// a LoadBalancer, with the ready nodes its slices had meanwhile.
TEST(ServiceIndex, AServiceNoPolicyCanAnnounceKeepsItsNameOnly) {
  ServiceIndex index({});
  Json internal = service("db", "198.18.0.20");
  internal["spec"]["type"] = "ClusterIP";
  internal["spec"]["externalIPs"] = {"198.18.0.21"};
  EXPECT_TRUE(index.serviceSeen(internal));  // new
  auto services = index.services();
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0]->key, "shop/db");
  EXPECT_EQ(services[0]->uid.str(), "u-db");
  EXPECT_FALSE(services[0]->handled);
  EXPECT_TRUE(services[0]->labels.empty());
  EXPECT_TRUE(services[0]->loadBalancerIPs.empty());
  EXPECT_TRUE(services[0]->externalIPs().empty());
  EXPECT_EQ(index.uidOf("shop/db"), "u-db");
  Json relabelled = internal;
  relabelled["metadata"]["labels"]["tier"] = "data";
  EXPECT_FALSE(index.serviceSeen(relabelled)) << "a label of a Service no plan reads woke one";
  EXPECT_FALSE(index.sliceSeen(slice("db-a", "db", {{"w1", true}}))) << "its ready nodes woke a plan";
  EXPECT_TRUE(index.services()[0]->readyEndpointNodes().empty());
  Json balanced = relabelled;
  balanced["spec"]["type"] = "LoadBalancer";
  EXPECT_TRUE(index.serviceSeen(balanced));
  services = index.services();
  EXPECT_TRUE(services[0]->handled);
  EXPECT_EQ(services[0]->loadBalancerIPs, std::vector<std::string>{"198.18.0.20"});
  EXPECT_EQ(services[0]->readyEndpointNodes(), std::set<std::string>{"w1"}) << "the slice seen meanwhile was lost";
  EXPECT_TRUE(index.sliceGone(slice("db-a", "db", {})));  // a LoadBalancer's ready nodes count again
}

// Ready endpoints matter to a plan only with externalTrafficPolicy: Local. A Cluster Service's
// slices (endpoints come and go all day in a cluster) wake no plan and are not copied into its
// ServiceInfo; turned Local, it has the ready nodes its slices had meanwhile.
TEST(ServiceIndex, ReadyNodesAreReadOnlyForALocalService) {
  ServiceIndex index({});
  Json cluster = service("web", "198.18.0.10");
  cluster["spec"]["externalTrafficPolicy"] = "Cluster";
  EXPECT_TRUE(index.serviceSeen(cluster));
  EXPECT_FALSE(index.sliceSeen(slice("web-a", "web", {{"w1", true}}))) << "a Cluster Service's endpoints woke a plan";
  EXPECT_FALSE(index.sliceSeen(slice("web-a", "web", {{"w2", true}})));
  EXPECT_TRUE(index.services()[0]->readyEndpointNodes().empty());
  EXPECT_EQ(index.services()[0]->rare, nullptr) << "an ordinary Service carries nothing rare";
  EXPECT_TRUE(index.serviceSeen(service("web", "198.18.0.10")));  // now Local
  EXPECT_EQ(index.services()[0]->readyEndpointNodes(), std::set<std::string>{"w2"});
  EXPECT_TRUE(index.sliceSeen(slice("web-a", "web", {{"w3", true}})));
  EXPECT_EQ(index.services()[0]->readyEndpointNodes(), std::set<std::string>{"w3"});
}

// The agent holds one ServiceInfo per Service (10,000 in the benchmark): what most Services
// lack is kept apart, and copies share it until one changes.
TEST(ServiceIndex, ServiceInfoKeepsTheRareFieldsApartAndSharesThem) {
  EXPECT_LE(sizeof(policy::ServiceInfo), 160u);
  policy::ServiceInfo a;
  a.setExternalIPs({"198.18.0.9"});
  policy::ServiceInfo b = a;
  EXPECT_EQ(a.rare, b.rare);
  b.setProblem("malformed");
  EXPECT_NE(a.rare, b.rare);
  EXPECT_TRUE(a.problem().empty());
  EXPECT_EQ(b.externalIPs(), std::vector<std::string>{"198.18.0.9"});
  EXPECT_NE(a, b);
  b.setProblem("");
  EXPECT_EQ(a, b) << "equal fields compare equal, shared or not";
  a.setExternalIPs({});
  EXPECT_EQ(a.rare, nullptr) << "emptied, nothing is kept";
}

// After a start (many infos made), compact() copies every info afresh — equal, but new objects
// — and then not again until as many more were made.
TEST(ServiceIndex, CompactCopiesEveryInfoOnceEnoughWereMade) {
  ServiceIndex index({});
  for (int i = 0; i < 3; ++i) index.serviceSeen(service("web" + std::to_string(i), "198.18.0." + std::to_string(10 + i)));
  EXPECT_EQ(index.compact(4), 0u) << "three made, four wanted";
  index.serviceSeen(service("web3", "198.18.0.13"));
  auto before = index.services();
  EXPECT_EQ(index.compact(4), 4u);
  auto after = index.services();
  ASSERT_EQ(after.size(), 4u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_NE(before[i].get(), after[i].get()) << "not copied: " << after[i]->key;
    EXPECT_EQ(*before[i], *after[i]) << "copied differently: " << after[i]->key;
  }
  EXPECT_EQ(index.compact(4), 0u) << "nothing made since";
  EXPECT_FALSE(index.serviceSeen(service("web3", "198.18.0.13"))) << "a copy compared unequal to its Service";
}

// The copies are new blocks, none where an old info was: freed one by one as it went, each old
// block was taken straight back (the thread's malloc cache) by the next copy, and nothing moved.
TEST(ServiceIndex, CompactMovesNoInfoIntoAnotherInfosOldPlace) {
  ServiceIndex index({});
  for (int i = 0; i < 50; ++i) index.serviceSeen(service("web" + std::to_string(i), "198.18.0." + std::to_string(i)));
  std::set<const void*> old;  // addresses only: holding the infos would keep their blocks taken
  for (const auto& info : index.services()) old.insert(info.get());
  ASSERT_EQ(index.compact(50), 50u);
  size_t reused = 0;
  for (const auto& info : index.services()) reused += old.count(info.get());
  EXPECT_EQ(reused, 0u) << "copies made where old infos were freed a moment before";
}

// What the planner plans again: the keys of the Services whose info changed since the last
// snapshot — not those seen again unchanged, not those a compaction copied.
TEST(ServiceIndex, ASnapshotSaysWhichServicesChangedSinceTheLast) {
  ServiceIndex index({});
  std::optional<std::set<std::string>> changed;
  index.serviceSeen(service("web", "198.18.0.10"));
  EXPECT_EQ(index.servicesAndChanges(changed).size(), 1u);
  EXPECT_FALSE(changed.has_value()) << "the first snapshot knows no changes: everything is planned";
  index.serviceSeen(service("db", "198.18.0.20"));
  index.serviceSeen(service("web", "198.18.0.10"));  // the same again
  auto services = index.servicesAndChanges(changed);
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(*changed, std::set<std::string>{"shop/db"});
  ASSERT_EQ(services.size(), 2u);
  EXPECT_LT(services[0]->key, services[1]->key) << "in key order, as the planner is told";
  index.servicesAndChanges(changed);
  EXPECT_TRUE(changed->empty()) << "taken by the last snapshot";
  index.sliceSeen(slice("web-a", "web", {{"w1", true}}));  // a Local Service's ready nodes
  index.serviceGone(service("db", ""));
  EXPECT_GT(index.compact(1), 0u);
  index.servicesAndChanges(changed);
  EXPECT_EQ(*changed, (std::set<std::string>{"shop/db", "shop/web"}));
}

TEST(ServiceIndex, AMalformedServiceIsKeptWithItsProblemNeverAnException) {
  ServiceIndex index({});
  Json bad = service("web", "198.18.0.10");
  bad["spec"]["type"] = 42;
  EXPECT_TRUE(index.serviceSeen(bad));
  auto services = index.services();
  ASSERT_EQ(services.size(), 1u);
  EXPECT_FALSE(services[0]->handled);
  EXPECT_FALSE(services[0]->problem().empty());
  EXPECT_FALSE(index.sliceSeen(Json::array()));  // not even an object: no Service, nothing changes
}

}  // namespace
}  // namespace l2a::agent

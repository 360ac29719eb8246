#include "agent/cluster_view.h"

#include <gtest/gtest.h>

#include "agent/agent.h"

namespace l2a::agent {
namespace {

using Json = nlohmann::json;

policy::ClusterView viewOf(const Json& node, const Json& lease) {
  ViewInputs in{.services = {}, .endpointSlices = {}, .policies = {}, .nodes = eachOf({node}),
                .leaseOf = [&](const std::string&) -> std::optional<Json> { return lease; },
                .live = [](const std::string&, const Json&) { return true; }};
  return buildClusterView(in);
}

Json leaseWithInterfaces(const std::string& text) {
  return {{"metadata", {{"name", "l2a-node-w1"}, {"annotations", {{kInterfacesAnnotation, text}}}}},
          {"spec", {{"holderIdentity", "w1"}}}};
}

// Once, one Lease annotated {"eth0": true} threw out of every agent's view at once.
TEST(ClusterView, AMalformedInterfacesAnnotationIsAProblemNotACrash) {
  Json node{{"metadata", {{"name", "w1"}}}};
  for (const char* bad : {R"({"eth0":true})", R"({"eth0":{"up":"yes"}})", R"(["eth0"])", "not json"}) {
    policy::ClusterView view;
    ASSERT_NO_THROW(view = viewOf(node, leaseWithInterfaces(bad))) << bad;
    ASSERT_EQ(view.nodes.size(), 1u);
    EXPECT_EQ(view.nodes[0].interfaces, (std::map<std::string, bool>{})) << bad;  // none up: not a candidate
    ASSERT_EQ(view.problems.size(), 1u) << bad;
    EXPECT_NE(view.problems[0].find("Node w1: annotation l2announcer.io/interfaces"), std::string::npos);
  }
  auto good = viewOf(node, leaseWithInterfaces(R"({"eth0":{"up":true,"mac":"02:00:00:00:00:01"}})"));
  EXPECT_TRUE(good.problems.empty());
  EXPECT_EQ(good.nodes[0].interfaces, (std::map<std::string, bool>{{"eth0", true}}));
}

// NaN made every rendezvous score NaN; infinities and negatives are no better.
TEST(ClusterView, WeightsMustBeFinitePositiveNumbers) {
  for (const char* bad : {"nan", "inf", "-3", "0", "1e400", "2x", "1001"}) {
    Json node{{"metadata", {{"name", "w1"}, {"annotations", {{kWeightAnnotation, bad}}}}}};
    auto view = viewOf(node, Json::object());
    EXPECT_EQ(view.nodes[0].weight, 1.0) << bad;
    EXPECT_EQ(view.problems.size(), 1u) << bad;
  }
  Json node{{"metadata", {{"name", "w1"}, {"annotations", {{kWeightAnnotation, "2.5"}}}}}};
  auto view = viewOf(node, Json::object());
  EXPECT_EQ(view.nodes[0].weight, 2.5);
  EXPECT_TRUE(view.problems.empty());
}

// Drained nodes (l2a drain), nodes excluded from load balancers and cordoned ones take no
// address, each with its reason; the last two only while the agents avoid them (the default).
TEST(ClusterView, DrainedExcludedAndCordonedNodesAreNoCandidates) {
  auto nodeNamed = [](const std::string& name, Json labels, Json spec) {
    return Json{{"metadata", {{"name", name}, {"labels", labels}}}, {"spec", spec}};
  };
  std::vector<Json> nodes{nodeNamed("w1", {{kDrainLabel, "true"}}, Json::object()),
                          nodeNamed("w2", {{kExcludeFromLoadBalancersLabel, ""}}, Json::object()),
                          nodeNamed("w3", Json::object(), {{"unschedulable", true}}),
                          nodeNamed("w4", Json::object(), {{"unschedulable", "yes"}}),  // not a boolean: not cordoned
                          nodeNamed("w5", Json::object(), Json::object())};
  Json service{{"metadata", {{"name", "web"}, {"namespace", "default"}}},
               {"spec", {{"type", "LoadBalancer"}}},
               {"status", {{"loadBalancer", {{"ingress", {{{"ip", "198.18.0.1"}}}}}}}}};
  Json policyObject{{"metadata", {{"name", "all"}}}, {"spec", {{"loadBalancerIPs", true}}}};
  auto plan = [&](NodeAvoidance avoid) {
    ViewInputs in{.services = eachOf({service}), .endpointSlices = {}, .policies = {policy::parsePolicy(policyObject, "l2announcer.io")},
                  .nodes = eachOf(nodes), .leaseOf = [](const std::string&) -> std::optional<Json> { return Json::object(); },
                  .live = [](const std::string&, const Json&) { return true; }, .avoid = avoid};
    auto view = buildClusterView(in);
    EXPECT_TRUE(view.problems.empty());
    return policy::planAddresses(view).at("198.18.0.1");
  };
  auto reasons = [](const policy::AddressPlan& p) {
    std::map<std::string, std::string> out;
    for (const auto& e : p.excluded()) out[e.node] = e.reason;
    return out;
  };
  auto byDefault = plan({});
  EXPECT_EQ(byDefault.candidates(), (std::vector<std::string>{"w4", "w5"}));
  auto why = reasons(byDefault);
  EXPECT_EQ(why["w1"], "drained (label l2announcer.io/drain; l2a uncordon w1 gives it back)");
  EXPECT_EQ(why["w2"], "labelled node.kubernetes.io/exclude-from-external-load-balancers");
  EXPECT_EQ(why["w3"], "cordoned (spec.unschedulable)");
  auto permissive = plan({.excluded = false, .cordoned = false});
  EXPECT_EQ(permissive.candidates(), (std::vector<std::string>{"w2", "w3", "w4", "w5"}));
  EXPECT_EQ(reasons(permissive).count("w1"), 1u);  // drained whatever the flags
}

TEST(ClusterView, LeaseTimesOfAnyTypeOrSizeAreNotLive) {
  auto now = std::chrono::system_clock::now();
  for (const char* spec : {R"({"holderIdentity":"w1","renewTime":5,"leaseDurationSeconds":4})",
                           R"({"holderIdentity":"w1","renewTime":"2999-01-01T00:00:00Z","leaseDurationSeconds":"4"})",
                           R"({"holderIdentity":7})", R"("broken")"}) {
    EXPECT_FALSE(leaseLiveByTimestamps("w1", {{"spec", Json::parse(spec)}}, now)) << spec;
  }
  // A duration of 2^63 - 1 seconds must not overflow the clock into the past or the future.
  Json huge = {{"spec", {{"holderIdentity", "w1"}, {"renewTime", "2020-01-01T00:00:00Z"},
                         {"leaseDurationSeconds", std::numeric_limits<int64_t>::max()}}}};
  EXPECT_FALSE(leaseLiveByTimestamps("w1", huge, now));
}

}  // namespace
}  // namespace l2a::agent

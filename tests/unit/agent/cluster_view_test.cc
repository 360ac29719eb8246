#include "agent/cluster_view.h"

#include <gtest/gtest.h>

#include "agent/agent.h"

namespace l2a::agent {
namespace {

using Json = nlohmann::json;

policy::ClusterView viewOf(const Json& node, const Json& lease) {
  ViewInputs in{.services = {}, .endpointSlices = {}, .policies = {}, .nodes = {node},
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

#include "lab/service_defaults.h"

#include <gtest/gtest.h>

namespace l2a::lab {
namespace {

using Json = nlohmann::json;

Json service(Json spec) {
  return {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec", spec}};
}

// What kube-apiserver 1.34 stored for `kubectl apply` of each of these in the differential test.
TakenByServices takenBy(const std::vector<Json>& services) {
  TakenByServices taken;
  for (const Json& s : services) noteTaken(s, taken);
  return taken;
}

TEST(ServiceDefaults, SingleStackInTheFirstFamilyUnlessAsked) {
  auto s = defaultService(service({{"type", "LoadBalancer"}, {"ports", {{{"port", 80}}}}}), nullptr, {});
  ASSERT_TRUE(s);
  const Json& spec = (*s)["spec"];
  EXPECT_EQ(spec["ipFamilyPolicy"], "SingleStack");
  EXPECT_EQ(spec["ipFamilies"], Json::parse(R"(["IPv4"])"));
  EXPECT_EQ(spec["clusterIPs"].size(), 1u);
  EXPECT_EQ(spec["clusterIP"], spec["clusterIPs"][0]);
  EXPECT_EQ(spec["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(spec["ports"][0]["targetPort"], 80);
  EXPECT_GE(spec["ports"][0]["nodePort"].get<int>(), 30000);
  EXPECT_EQ(spec["externalTrafficPolicy"], "Cluster");
  EXPECT_EQ(spec["internalTrafficPolicy"], "Cluster");
  EXPECT_EQ(spec["sessionAffinity"], "None");
  EXPECT_EQ(spec["allocateLoadBalancerNodePorts"], true);
  EXPECT_EQ((*s)["status"], Json::parse(R"({"loadBalancer": {}})"));
}

TEST(ServiceDefaults, DualStackPoliciesGetBothFamiliesInTheOrderAsked) {
  auto prefer = defaultService(service({{"ipFamilyPolicy", "PreferDualStack"}, {"ipFamilies", {"IPv6"}}}), nullptr, {});
  ASSERT_TRUE(prefer);
  EXPECT_EQ((*prefer)["spec"]["ipFamilies"], Json::parse(R"(["IPv6", "IPv4"])"));
  EXPECT_EQ((*prefer)["spec"]["clusterIPs"].size(), 2u);
  EXPECT_NE((*prefer)["spec"]["clusterIP"].get<std::string>().find(':'), std::string::npos);
  auto both = defaultService(service({{"ipFamilyPolicy", "SingleStack"}, {"ipFamilies", {"IPv4", "IPv6"}}}), nullptr, {});
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, 422);
}

TEST(ServiceDefaults, AllocationsAreUniqueAndKeptAcrossUpdates) {
  auto first = defaultService(service({{"type", "LoadBalancer"}, {"ports", {{{"port", 80}}}}}), nullptr, {});
  ASSERT_TRUE(first);
  Json other = service({{"type", "LoadBalancer"}, {"ports", {{{"port", 80}}}}});
  other["metadata"]["name"] = "other";
  auto second = defaultService(other, nullptr, takenBy({*first}));
  ASSERT_TRUE(second);
  EXPECT_NE((*second)["spec"]["clusterIP"], (*first)["spec"]["clusterIP"]);
  EXPECT_NE((*second)["spec"]["ports"][0]["nodePort"], (*first)["spec"]["ports"][0]["nodePort"]);
  Json edited = service({{"type", "LoadBalancer"}, {"ports", {{{"port", 80}}}}, {"selector", {{"app", "x"}}}});
  auto updated = defaultService(edited, *first, takenBy({*first, *second}));
  ASSERT_TRUE(updated);
  EXPECT_EQ((*updated)["spec"]["clusterIP"], (*first)["spec"]["clusterIP"]);
  EXPECT_EQ((*updated)["spec"]["ports"][0]["nodePort"], (*first)["spec"]["ports"][0]["nodePort"]);
}

TEST(ServiceDefaults, IngressGetsIpModeVip) {
  Json s = service(Json::object());
  s["status"] = Json::parse(R"({"loadBalancer": {"ingress": [{"ip": "198.18.0.128"}, {"hostname": "x"}]}})");
  defaultIngressIpMode(s);
  EXPECT_EQ(s["status"]["loadBalancer"]["ingress"][0]["ipMode"], "VIP");
  EXPECT_FALSE(s["status"]["loadBalancer"]["ingress"][1].contains("ipMode"));
}

}  // namespace
}  // namespace l2a::lab

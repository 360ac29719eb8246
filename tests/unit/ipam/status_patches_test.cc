#include "ipam/status_patches.h"

#include <gtest/gtest.h>

namespace l2a::ipam {
namespace {

using Json = nlohmann::json;
const std::string kNow = "2026-11-27T12:00:00Z";

AllocationResult allocated(std::vector<std::string> texts) {
  AllocationResult r;
  r.handled = true;
  r.satisfied = true;
  r.reason = reasons::kSatisfied;
  r.message = "allocated";
  for (const auto& t : texts) r.addresses.push_back(*Address::parse(t));
  return r;
}

Json service(Json status) {
  return {{"metadata", {{"name", "web"}, {"namespace", "default"}, {"generation", 1}}},
          {"spec", {{"type", "LoadBalancer"}}},
          {"status", status}};
}

// What kube-apiserver (1.30 and later) stores after the operator's patch: ipMode defaulted.
Json storedByRealServer(const Json& patch) {
  Json status = patch["status"];
  for (Json& i : status["loadBalancer"]["ingress"]) i["ipMode"] = "VIP";
  return status;
}

TEST(ServiceStatusPatch, WritesAddressesAndConditionOnce) {
  AllocationResult r = allocated({"198.18.0.128", "2001:db8::1:0"});
  Json patch = serviceStatusPatch(service(Json::object()), r, kNow);
  ASSERT_FALSE(patch.is_null());
  EXPECT_EQ(patch["status"]["loadBalancer"]["ingress"],
            Json::parse(R"([{"ip":"198.18.0.128"},{"ip":"2001:db8::1:0"}])"));
  EXPECT_EQ(patch["status"]["conditions"][0]["type"], kConditionType);
  // Stored by a real API server (ipMode added), read back later: nothing to write.
  EXPECT_TRUE(serviceStatusPatch(service(storedByRealServer(patch)), r, "2026-11-27T12:05:00Z").is_null());
}

TEST(ServiceStatusPatch, OtherFieldsOfOthersDoNotCauseWrites) {
  AllocationResult r = allocated({"198.18.0.128"});
  Json stored = storedByRealServer(serviceStatusPatch(service(Json::object()), r, kNow));
  stored["loadBalancer"]["ingress"][0]["ports"] = Json::parse(R"([{"port":80,"protocol":"TCP"}])");
  stored["conditions"].push_back({{"type", "example.com/Other"}, {"status", "True"}});
  EXPECT_TRUE(serviceStatusPatch(service(stored), r, kNow).is_null());
}

TEST(ServiceStatusPatch, ChangedAddressesAreWrittenKeepingOthersConditions) {
  Json stored = storedByRealServer(serviceStatusPatch(service(Json::object()), allocated({"198.18.0.128"}), kNow));
  stored["conditions"].push_back({{"type", "example.com/Other"}, {"status", "True"}});
  Json patch = serviceStatusPatch(service(stored), allocated({"198.18.0.129"}), kNow);
  ASSERT_FALSE(patch.is_null());
  EXPECT_EQ(ingressAddresses(service(patch["status"])), std::vector<std::string>{"198.18.0.129"});
  EXPECT_EQ(patch["status"]["conditions"].size(), 2u);
}

TEST(ServiceStatusPatch, ServicesOfOthersAreNotTouched) {
  AllocationResult notOurs;  // handled = false
  EXPECT_TRUE(serviceStatusPatch(service(Json::parse(R"({"loadBalancer":{"ingress":[{"ip":"198.18.9.9"}]}})")),
                                 notOurs, kNow).is_null());
}

TEST(ServiceStatusPatch, MalformedStatusIsRewrittenNotAnException) {
  AllocationResult r = allocated({"198.18.0.128"});
  for (const char* bad : {R"("text")", R"({"loadBalancer":7})", R"({"loadBalancer":{"ingress":{"ip":1}}})",
                          R"({"conditions":"x"})", R"({"conditions":[3,{"type":5}]})"}) {
    Json patch;
    EXPECT_NO_THROW(patch = serviceStatusPatch(service(Json::parse(bad)), r, kNow)) << bad;
    EXPECT_FALSE(patch.is_null()) << bad;
  }
}

Json ciliumPool(Json status) {
  return {{"apiVersion", "cilium.io/v2"}, {"kind", "CiliumLoadBalancerIPPool"},
          {"metadata", {{"name", "seed-pool"}}}, {"spec", {{"blocks", {{{"cidr", "198.18.0.128/28"}}}}}},
          {"status", status}};
}

TEST(PoolStatusPatch, CiliumPoolsGetCiliumsConditionsOnly) {
  Json object = ciliumPool(Json::object());
  Pool parsed = parsePool(object, "cilium.io");
  PoolStatus counts{.total = 16, .used = 1};
  Json patch = poolStatusPatch(object, "cilium.io", parsed, counts, kNow);
  ASSERT_FALSE(patch.is_null());
  EXPECT_EQ(patch["status"].size(), 1u);  // Cilium's CRD keeps status.conditions and nothing else
  std::map<std::string, std::string> messages;
  for (const Json& c : patch["status"]["conditions"]) messages[c["type"]] = c["message"];
  EXPECT_EQ(messages["cilium.io/IPsAvailable"], "15");
  EXPECT_EQ(messages["cilium.io/IPsUsed"], "1");
  EXPECT_TRUE(messages.count("cilium.io/PoolConflict"));
  // Stored as written: nothing more to write.
  EXPECT_TRUE(poolStatusPatch(ciliumPool(patch["status"]), "cilium.io", parsed, counts, kNow).is_null());
}

TEST(PoolStatusPatch, OwnPoolsAlsoGetPrinterColumnFieldsAndPrunedFieldsOfOthersDoNotMatter) {
  Json object = ciliumPool(Json::object());
  object["apiVersion"] = "l2announcer.io/v1alpha1";
  Pool parsed = parsePool(object, "l2announcer.io");
  PoolStatus counts{.total = 16, .used = 2};
  Json patch = poolStatusPatch(object, "l2announcer.io", parsed, counts, kNow);
  ASSERT_FALSE(patch.is_null());
  EXPECT_EQ(patch["status"]["ipsAvailable"], "14");
  EXPECT_EQ(patch["status"]["conflicting"], "False");
  Json stored = patch["status"];
  stored["somethingElse"] = "kept by a CRD that preserves unknown fields";
  object["status"] = stored;
  EXPECT_TRUE(poolStatusPatch(object, "l2announcer.io", parsed, counts, "2026-11-28T00:00:00Z").is_null());
  counts.used = 3;
  EXPECT_FALSE(poolStatusPatch(object, "l2announcer.io", parsed, counts, kNow).is_null());
}

}  // namespace
}  // namespace l2a::ipam

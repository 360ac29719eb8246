#include "k8s/projection.h"

#include <gtest/gtest.h>

namespace l2a::k8s {
namespace {

using Json = nlohmann::json;

Json fullService() {
  return Json::parse(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                 "labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
                 "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]},
    "spec": {"type": "LoadBalancer", "loadBalancerClass": "l2announcer.io/l2", "ports": [{"port": 80}],
             "selector": {"app": "web"}, "externalTrafficPolicy": "Local", "externalIPs": ["198.18.0.9"]},
    "status": {"loadBalancer": {"ingress": [{"ip": "198.18.0.130", "ipMode": "VIP"}, {"ip": "2001:db8::1:1"}]}}
  })");
}

TEST(Projection, KeepsWhatThePathsNameAndNothingElse) {
  Json kept = project(fullService(), agentServiceFields());
  EXPECT_EQ(kept["metadata"]["labels"], Json({{"app", "web"}}));
  EXPECT_EQ(kept["metadata"]["uid"], "u-1");
  EXPECT_EQ(kept["metadata"]["resourceVersion"], "42");
  EXPECT_FALSE(kept["metadata"].contains("annotations"));
  EXPECT_FALSE(kept["metadata"].contains("managedFields"));
  EXPECT_FALSE(kept["spec"].contains("ports"));
  EXPECT_FALSE(kept["spec"].contains("selector"));
  EXPECT_EQ(kept["spec"]["externalIPs"], Json({"198.18.0.9"}));
  // "*": every element of the array, each with only what is named.
  EXPECT_EQ(kept["status"]["loadBalancer"]["ingress"], Json::parse(R"([{"ip": "198.18.0.130"}, {"ip": "2001:db8::1:1"}])"));
  EXPECT_LT(kept.dump().size(), fullService().dump().size());
}

TEST(Projection, AValueOfTheWrongTypeIsKeptForTheConsumerToJudge) {
  Json bad = fullService();
  bad["spec"] = "not an object";
  bad["status"]["loadBalancer"]["ingress"] = "nor a list";
  Json kept = project(bad, agentServiceFields());
  EXPECT_EQ(kept["spec"], "not an object");
  EXPECT_EQ(kept["status"]["loadBalancer"]["ingress"], "nor a list");
  EXPECT_EQ(project(Json("whole thing wrong"), agentServiceFields()), Json("whole thing wrong"));
}

TEST(Projection, AParentWithoutTheNamedChildIsNotMadeUpAsNull) {
  // A Service before IPAM: status.loadBalancer is {} and there are no conditions.
  Json kept = project(Json::parse(R"({"metadata": {"name": "s"}, "status": {"loadBalancer": {}}})"), agentServiceFields());
  EXPECT_FALSE(kept.contains("status")) << kept.dump();
  Json withNull = project(Json::parse(R"({"metadata": {"name": "s"}, "status": null})"), agentServiceFields());
  EXPECT_TRUE(withNull["status"].is_null());  // as it is: the consumer judges
  Json conditions = project(Json::parse(R"({"status": {"conditions": [{"type": "X"}]}})"), agentServiceFields());
  EXPECT_EQ(conditions["status"]["conditions"][0]["type"], "X");
}

TEST(Projection, AbsentFieldsStayAbsent) {
  Json kept = project(Json::parse(R"({"metadata": {"name": "n"}})"), agentNodeFields());
  EXPECT_EQ(kept, Json::parse(R"({"metadata": {"name": "n"}})"));
}

TEST(Projection, KeepConditionLeavesOnlyThatTypeAndWhatIsNotAnObject) {
  Json s = fullService();
  s["status"]["conditions"] = Json::parse(R"([
    {"type": "io.cilium/lb-ipam-request-satisfied", "status": "True", "message": "allocated"},
    {"type": "l2announcer.io/Announced", "status": "True", "message": "198.18.0.130 by n2"},
    "not an object", {"status": "True"}, {"type": 7}])");
  keepCondition(s, "l2announcer.io/Announced");
  EXPECT_EQ(s["status"]["conditions"],
            Json::parse(R"([{"type": "l2announcer.io/Announced", "status": "True", "message": "198.18.0.130 by n2"}, "not an object"])"));
  // Nothing to filter, or not where conditions should be: left as it is, no throw.
  for (Json odd : {Json::parse(R"({"status": {"conditions": "text"}})"), Json::parse(R"({"status": 3})"), Json(5),
                   Json::parse(R"({"spec": {}})")}) {
    Json before = odd;
    keepCondition(odd, "l2announcer.io/Announced");
    EXPECT_EQ(odd, before);
  }
}

TEST(Projection, NodesKeepLabelsAndTheWeightAnnotationOnly) {
  Json node = Json::parse(R"({
    "metadata": {"name": "w1", "labels": {"role": "edge"},
                 "annotations": {"l2announcer.io/weight": "2", "flannel.alpha.coreos.com/backend-data": "{}"}},
    "status": {"images": [{"names": ["registry/big:1"], "sizeBytes": 123456789}], "conditions": [{"type": "Ready"}]}
  })");
  Json kept = project(node, agentNodeFields());
  EXPECT_EQ(kept["metadata"]["annotations"], Json({{"l2announcer.io/weight", "2"}}));
  EXPECT_FALSE(kept.contains("status"));
}

TEST(Projection, EndpointSlicesKeepEachEndpointsNodeAndReadiness) {
  Json slice = Json::parse(R"({
    "metadata": {"name": "web-abc", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web", "other": "x"}},
    "endpoints": [{"addresses": ["10.0.0.1"], "nodeName": "w1", "conditions": {"ready": true, "serving": true}},
                  {"addresses": ["10.0.0.2"], "conditions": "wrong"}],
    "ports": [{"port": 80}]
  })");
  Json kept = project(slice, agentEndpointSliceFields());
  EXPECT_EQ(kept["metadata"]["labels"], Json({{"kubernetes.io/service-name", "web"}}));
  EXPECT_EQ(kept["endpoints"], Json::parse(R"([{"nodeName": "w1", "conditions": {"ready": true}}, {"conditions": "wrong"}])"));
  EXPECT_FALSE(kept.contains("ports"));
}

}  // namespace
}  // namespace l2a::k8s

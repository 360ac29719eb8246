#include "cli/migrate_command.h"

#include <gtest/gtest.h>

namespace l2a::cli {
namespace {

using Json = nlohmann::json;

Migration migrateYaml(const std::string& yaml) {
  auto docs = parseYamlDocuments(yaml);
  EXPECT_TRUE(docs.ok()) << docs.error().message;
  return migrate(docs.ok() ? *docs : std::vector<Json>{});
}

bool hasNote(const std::vector<std::string>& notes, const std::string& part) {
  for (const auto& n : notes) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(Migrate, CiliumKindsCarryOverFieldByField) {
  auto m = migrateYaml(R"(
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: old, labels: {team: a}, annotations: {note: x}}
spec:
  cidrs: [{cidr: 198.18.0.0/28}]
  disabled: true
  serviceSelector: {matchLabels: {color: blue}}
---
apiVersion: cilium.io/v2alpha1
kind: CiliumL2AnnouncementPolicy
metadata: {name: p}
spec: {interfaces: ["^eth[0-9]+"], externalIPs: true, loadBalancerIPs: false, nodeSelector: {matchLabels: {edge: "true"}}}
)");
  ASSERT_EQ(m.objects.size(), 2u);
  EXPECT_EQ(m.objects[0].object, Json::parse(R"({"apiVersion":"l2announcer.io/v1alpha1","kind":"LoadBalancerIPPool",
    "metadata":{"name":"old","labels":{"team":"a"}},
    "spec":{"blocks":[{"cidr":"198.18.0.0/28"}],"disabled":true,"serviceSelector":{"matchLabels":{"color":"blue"}}}})"));
  EXPECT_EQ(m.objects[1].object["kind"], "L2AnnouncementPolicy");
  EXPECT_EQ(m.objects[1].object["spec"]["interfaces"], Json::parse(R"(["^eth[0-9]+"])"));
  EXPECT_EQ(m.objects[1].object["spec"]["nodeSelector"]["matchLabels"]["edge"], "true");  // quoted: a string
  EXPECT_EQ(m.objects[1].object["spec"]["externalIPs"], true);
  EXPECT_EQ(m.objects[1].notes, std::vector<std::string>{"from cilium.io/v2alpha1 CiliumL2AnnouncementPolicy p"});
}

TEST(Migrate, MetallbPoolAddressesNamespacesAndWhatCannotBeCarried) {
  auto m = migrateYaml(R"(
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first, namespace: metallb-system}
spec:
  addresses: [198.18.0.0/24, 198.18.1.10 - 198.18.1.20, "2001:db8::/120", nonsense]
  autoAssign: false
  serviceAllocation:
    priority: 10
    namespaces: [web, api]
    namespaceSelectors: [{matchLabels: {tier: x}}]
    serviceSelectors: [{matchLabels: {a: b}}, {matchLabels: {c: d}}]
)");
  ASSERT_EQ(m.objects.size(), 1u);
  const Json& spec = m.objects[0].object["spec"];
  EXPECT_EQ(m.objects[0].object["metadata"], Json::parse(R"({"name":"first"})"));  // pools are cluster-wide
  EXPECT_EQ(spec["blocks"], Json::parse(R"([{"cidr":"198.18.0.0/24"},{"start":"198.18.1.10","stop":"198.18.1.20"},
                                             {"cidr":"2001:db8::/120"}])"));
  EXPECT_EQ(spec["serviceSelector"], Json::parse(R"({"matchLabels":{"a":"b","l2announcer.io/pool":"first"},
    "matchExpressions":[{"key":"io.kubernetes.service.namespace","operator":"In","values":["web","api"]}]})"));
  const auto& notes = m.objects[0].notes;
  EXPECT_TRUE(hasNote(notes, "address \"nonsense\" is neither a CIDR nor a range"));
  EXPECT_TRUE(hasNote(notes, "only the first is carried over"));
  EXPECT_TRUE(hasNote(notes, "namespaceSelectors is not carried over"));
  EXPECT_TRUE(hasNote(notes, "priority 10 is not carried over"));
  EXPECT_TRUE(hasNote(notes, "labelled l2announcer.io/pool=first"));
}

TEST(Migrate, AvoidBuggyIpsLeavesOutDotZeroAndDot255) {
  auto m = migrateYaml(R"(
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p}
spec: {avoidBuggyIPs: true, addresses: [198.18.0.0/23, 198.18.2.250-198.18.3.1, 198.18.4.0/32, "2001:db8::/126", 198.16.0.0/8]}
)");
  ASSERT_EQ(m.objects.size(), 1u);
  EXPECT_EQ(m.objects[0].object["spec"]["blocks"], Json::parse(R"([
    {"start":"198.18.0.1","stop":"198.18.0.254"},{"start":"198.18.1.1","stop":"198.18.1.254"},
    {"start":"198.18.2.250","stop":"198.18.2.254"},{"start":"198.18.3.1"},
    {"cidr":"2001:db8::/126"},{"cidr":"198.16.0.0/8"}])"));
  EXPECT_TRUE(hasNote(m.objects[0].notes, "198.16.0.0/8 would take more than 256 ranges"));
}

TEST(Migrate, L2AdvertisementInterfacesNodeSelectorsAndPools) {
  auto m = migrateYaml(R"(
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: adv, namespace: metallb-system}
spec:
  ipAddressPools: [first]
  interfaces: [eth0, bond0.100]
  nodeSelectors: [{matchLabels: {zone: a}}, {matchLabels: {zone: b}}]
)");
  ASSERT_EQ(m.objects.size(), 2u);  // any of two selectors: two policies
  EXPECT_EQ(m.objects[0].object["metadata"]["name"], "adv-1");
  EXPECT_EQ(m.objects[1].object["metadata"]["name"], "adv-2");
  EXPECT_EQ(m.objects[1].object["spec"]["nodeSelector"]["matchLabels"]["zone"], "b");
  EXPECT_EQ(m.objects[0].object["spec"]["interfaces"], Json::parse(R"(["^eth0$","^bond0\\.100$"])"));
  EXPECT_EQ(m.objects[0].object["spec"]["loadBalancerIPs"], true);
  EXPECT_TRUE(hasNote(m.objects[0].notes, "announces only the addresses of pools [\"first\"]"));
  EXPECT_TRUE(hasNote(m.objects[0].notes, "2 nodeSelectors (any of them): one policy per selector"));
}

TEST(Migrate, OtherKindsAreNotedAndMalformedOnesLeftOutWithTheReason) {
  auto m = migrateYaml(R"(
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: router}
---
apiVersion: v1
kind: Service
metadata: {name: web, annotations: {metallb.io/loadBalancerIPs: 198.18.0.5}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: broken}
spec: {addresses: 5, avoidBuggyIPs: "yes"}
)");
  EXPECT_TRUE(m.objects.empty());
  EXPECT_TRUE(hasNote(m.notes, "BGPPeer router: left out (BGP"));
  EXPECT_TRUE(hasNote(m.notes, "Service web: nothing to change (its MetalLB, kube-vip or Cilium annotations are read as they are)"));
  EXPECT_TRUE(hasNote(m.notes, "ConfigMap c: left as it is"));
  EXPECT_TRUE(hasNote(m.notes, "\"IPAddressPool\" \"broken\": malformed, left out"));
}

TEST(Migrate, YamlTypesSurviveTheRoundTrip) {
  Json value = Json::parse(R"({"a":"true","b":"80","c":"","d":true,"e":80,"f":null,"g":["x: y","1.5"],"h":"plain"})");
  std::string yaml = toYaml(value);
  auto back = parseYamlDocuments(yaml);
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << yaml;
  EXPECT_EQ((*back)[0], value) << yaml;
  EXPECT_FALSE(parseYamlDocuments("a: [unclosed").ok());
  EXPECT_FALSE(parseYamlDocuments("- a list\n").ok());
}

}  // namespace
}  // namespace l2a::cli

#include "ipam/allocator.h"

#include <gtest/gtest.h>

namespace l2a::ipam {
namespace {

using Json = nlohmann::json;

Json poolJson(const std::string& name, Json blocks, Json extra = Json::object(),
              const std::string& created = "2026-01-01T00:00:00Z") {
  Json spec{{"blocks", blocks}};
  if (extra.is_object()) spec.update(extra);
  return {{"metadata", {{"name", name}, {"creationTimestamp", created}}}, {"spec", spec}};
}

Pool pool(const std::string& name, Json blocks, Json extra = Json::object(),
          const std::string& created = "2026-01-01T00:00:00Z") {
  return parsePool(poolJson(name, blocks, extra, created), "l2announcer.io");
}

Json serviceJson(const std::string& name, Json spec = Json::object(), Json annotations = Json::object(),
                 Json labels = Json::object(), const std::string& ns = "default") {
  Json s{{"type", "LoadBalancer"}, {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}};
  if (spec.is_object()) s.update(spec);
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"annotations", annotations}, {"labels", labels}}},
          {"spec", s}};
}

ServiceRequest svc(const std::string& name, Json spec = Json::object(), Json annotations = Json::object(),
                   Json labels = Json::object(), const std::string& ns = "default") {
  return parseService(serviceJson(name, spec, annotations, labels, ns));
}

std::vector<std::string> texts(const std::vector<Address>& as) {
  std::vector<std::string> out;
  for (const auto& a : as) out.push_back(a.toString());
  return out;
}

const Json kV4Only{{"ipFamilyPolicy", "SingleStack"}, {"ipFamilies", {"IPv4"}}};

TEST(Pool, BlocksRangesReservationsAndTotals) {
  Pool p = pool("p", {{{"cidr", "198.18.0.0/24"}}, {{"start", "198.18.1.10"}, {"stop", "198.18.1.19"}},
                      {{"start", "198.18.2.1"}}, {{"cidr", "2001:db8::/64"}}});
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.ranges.size(), 4u);
  EXPECT_EQ(p.ranges[0].first.toString(), "198.18.0.0");  // allowFirstLastIPs unset: allowed
  EXPECT_EQ(p.ranges[2].size(), 1u);                      // a lone start is one address
  EXPECT_EQ(u128ToString(p.total()), "18446744073709551883");  // 256 + 10 + 1 + 2^64
}

TEST(Pool, AllowFirstLastNoReservesNetworkAndBroadcastOfCidrsOnly) {
  Pool p = pool("p", {{{"cidr", "198.18.0.0/24"}}, {{"cidr", "198.18.1.0/31"}}, {{"cidr", "2001:db8::/126"}},
                      {{"start", "198.18.2.0"}, {"stop", "198.18.2.3"}}},
                {{"allowFirstLastIPs", "No"}});
  EXPECT_EQ(p.ranges[0].first.toString(), "198.18.0.1");
  EXPECT_EQ(p.ranges[0].last.toString(), "198.18.0.254");
  EXPECT_EQ(p.ranges[1].size(), 2u);  // /31: nothing to reserve
  EXPECT_EQ(p.ranges[2].first.toString(), "2001:db8::1");
  EXPECT_EQ(p.ranges[2].size(), 2u);
  EXPECT_EQ(p.ranges[3].size(), 4u);  // ranges reserve nothing
}

TEST(Pool, BadBlocksAreReportedAndSkipped) {
  Pool p = pool("p", {{{"cidr", "198.18.0.0/33"}}, {{"cidr", "nonsense"}}, {{"cidr", "198.18.0.1/24"}},
                      {{"start", "198.18.0.9"}, {"stop", "198.18.0.1"}},
                      {{"start", "198.18.0.1"}, {"stop", "2001:db8::1"}}, {{"cidr", "198.18.5.0/30"}}});
  EXPECT_EQ(p.errors.size(), 5u);
  ASSERT_EQ(p.ranges.size(), 1u);
  EXPECT_NE(p.errors[3].find("after stop"), std::string::npos);
  EXPECT_NE(p.errors[4].find("mixes"), std::string::npos);
}

TEST(Pool, CiliumsDeprecatedCidrsAreBlocksToo) {
  Json object = poolJson("old", Json::array(), {{"cidrs", {{{"cidr", "198.18.7.0/30"}}}}});
  object["spec"].erase("blocks");
  Pool p = parsePool(object, "cilium.io");
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.ranges.size(), 1u);
  EXPECT_EQ(p.ranges[0].size(), 4u);
  Pool both = pool("both", {{{"cidr", "198.18.8.0/31"}}}, {{"cidrs", {{{"start", "198.18.9.1"}}}}});
  EXPECT_EQ(both.ranges.size(), 2u);  // Cilium takes both lists
  Pool wrong = pool("wrong", {{{"cidr", "198.18.8.0/31"}}}, {{"cidrs", "198.18.9.0/24"}});
  ASSERT_EQ(wrong.errors.size(), 1u);
  EXPECT_EQ(wrong.errors[0], "spec.cidrs is not a list");
}

TEST(Allocator, DualStackByDefaultFromTheFirstSelectingPool) {
  Allocator a;
  a.setPools({pool("a", {{{"cidr", "198.18.0.0/30"}}, {{"cidr", "2001:db8::/126"}}})});
  auto r = a.reconcile(svc("s1"));
  EXPECT_TRUE(r.satisfied);
  EXPECT_EQ(texts(r.addresses), (std::vector<std::string>{"198.18.0.0", "2001:db8::"}));
  auto r2 = a.reconcile(svc("s2", kV4Only));
  EXPECT_EQ(texts(r2.addresses), std::vector<std::string>{"198.18.0.1"});
  EXPECT_EQ(a.reconcile(svc("s1")).addresses, r.addresses);  // stable
}

TEST(Allocator, SelectorsIncludingPseudoLabels) {
  Allocator a;
  a.setPools({pool("blue", {{{"cidr", "198.18.1.0/24"}}}, {{"serviceSelector", {{"matchLabels", {{"color", "blue"}}}}}}),
              pool("named", {{{"cidr", "198.18.2.0/24"}}},
                   {{"serviceSelector", {{"matchExpressions", {{{"key", "io.kubernetes.service.name"},
                                                                {"operator", "In"}, {"values", {"special"}}}}}}}})});
  EXPECT_EQ(texts(a.reconcile(svc("x", kV4Only, {}, {{"color", "blue"}})).addresses), std::vector<std::string>{"198.18.1.0"});
  EXPECT_EQ(texts(a.reconcile(svc("special", kV4Only)).addresses), std::vector<std::string>{"198.18.2.0"});
  auto none = a.reconcile(svc("plain", kV4Only));
  EXPECT_FALSE(none.satisfied);
  EXPECT_EQ(none.reason, reasons::kNoPool);
}

TEST(Allocator, RequestedAddressesAndTheirFailures) {
  Allocator a;
  a.setPools({pool("open", {{{"cidr", "198.18.0.0/24"}}}),
              pool("blue", {{{"cidr", "198.18.1.0/24"}}}, {{"serviceSelector", {{"matchLabels", {{"color", "blue"}}}}}})});
  auto ok = a.reconcile(svc("s1", kV4Only, {{"l2announcer.io/ips", "198.18.0.77"}}));
  EXPECT_EQ(texts(ok.addresses), std::vector<std::string>{"198.18.0.77"});
  auto viaSpec = a.reconcile(svc("s2", {{"loadBalancerIP", "198.18.0.78"}, {"ipFamilyPolicy", "SingleStack"}}));
  EXPECT_EQ(texts(viaSpec.addresses), std::vector<std::string>{"198.18.0.78"});
  auto cilium = a.reconcile(svc("s3", kV4Only, {{"lbipam.cilium.io/ips", "198.18.0.79"}}));
  EXPECT_EQ(texts(cilium.addresses), std::vector<std::string>{"198.18.0.79"});
  auto outside = a.reconcile(svc("s4", kV4Only, {{"l2announcer.io/ips", "198.19.9.9"}}));
  EXPECT_EQ(outside.reason, reasons::kNoPool);
  auto mismatch = a.reconcile(svc("s5", kV4Only, {{"l2announcer.io/ips", "198.18.1.5"}}));
  EXPECT_EQ(mismatch.reason, reasons::kPoolSelectorMismatch);
  auto taken = a.reconcile(svc("s6", kV4Only, {{"l2announcer.io/ips", "198.18.0.77"}}));
  EXPECT_EQ(taken.reason, reasons::kAlreadyAllocated);
  EXPECT_TRUE(taken.addresses.empty());
  auto bad = a.reconcile(svc("s7", kV4Only, {{"l2announcer.io/ips", "198.18.0.300"}}));
  EXPECT_EQ(bad.reason, reasons::kInvalidRequest);
}

// MetalLB's and kube-vip's annotations, read unchanged: requested addresses (a list), the
// sharing key, and the pool named by metallb.io/address-pool (an unknown pool is a reason, not a
// silent fallback to any pool).
TEST(Allocator, MetallbAndKubeVipAnnotations) {
  Allocator a;
  a.setPools({pool("open", {{{"cidr", "198.18.0.0/24"}}, {{"cidr", "2001:db8::/120"}}}),
              pool("edge", {{{"cidr", "198.18.1.0/24"}}})});
  Json dual{{"ipFamilyPolicy", "RequireDualStack"}, {"ipFamilies", {"IPv4", "IPv6"}}};
  auto metallb = a.reconcile(svc("m", dual, {{"metallb.io/loadBalancerIPs", "198.18.0.10, 2001:db8::10"}}));
  EXPECT_EQ(texts(metallb.addresses), (std::vector<std::string>{"198.18.0.10", "2001:db8::10"}));
  auto old = a.reconcile(svc("o", kV4Only, {{"metallb.universe.tf/loadBalancerIPs", "198.18.0.11"}}));
  EXPECT_EQ(texts(old.addresses), std::vector<std::string>{"198.18.0.11"});
  auto kubeVip = a.reconcile(svc("k", kV4Only, {{"kube-vip.io/loadbalancerIPs", "198.18.1.12"}}));
  EXPECT_EQ(texts(kubeVip.addresses), std::vector<std::string>{"198.18.1.12"});
  // Ours wins over the others when both are set.
  auto both = a.reconcile(svc("b", kV4Only, {{"l2announcer.io/ips", "198.18.0.13"}, {"metallb.io/loadBalancerIPs", "198.18.0.14"}}));
  EXPECT_EQ(texts(both.addresses), std::vector<std::string>{"198.18.0.13"});

  auto edge = a.reconcile(svc("e", kV4Only, {{"metallb.io/address-pool", "edge"}}));
  ASSERT_EQ(edge.addresses.size(), 1u);
  EXPECT_EQ(edge.addresses[0].toString().rfind("198.18.1.", 0), 0u) << edge.addresses[0].toString();
  auto oldPool = a.reconcile(svc("e2", kV4Only, {{"metallb.universe.tf/address-pool", "edge"}}));
  ASSERT_EQ(oldPool.addresses.size(), 1u);
  EXPECT_EQ(oldPool.addresses[0].toString().rfind("198.18.1.", 0), 0u);
  auto notThere = a.reconcile(svc("e3", kV4Only, {{"metallb.io/address-pool", "edge"}, {"metallb.io/loadBalancerIPs", "198.18.0.20"}}));
  EXPECT_EQ(notThere.reason, reasons::kPoolSelectorMismatch);  // asked outside the pool it names
  auto unknown = a.reconcile(svc("e4", kV4Only, {{"metallb.io/address-pool", "nope"}}));
  EXPECT_FALSE(unknown.satisfied);
  EXPECT_EQ(unknown.reason, reasons::kNoPool);
  EXPECT_NE(unknown.message.find("the pool the service names (nope) does not exist"), std::string::npos) << unknown.message;

  Json key{{"metallb.io/allow-shared-ip", "web"}};
  auto http = a.reconcile(svc("http", kV4Only, key));
  Json https = kV4Only;
  https["ports"] = {{{"port", 443}, {"protocol", "TCP"}}};
  EXPECT_EQ(a.reconcile(svc("https", https, {{"metallb.universe.tf/allow-shared-ip", "web"}})).addresses, http.addresses);
}

// Cilium's rule, and what a real API server makes of a Service without ipFamilyPolicy (it
// defaults SingleStack with the cluster's first family): requested addresses are all it gets.
TEST(Allocator, RequestedAddressesAreExactlyWhatTheServiceGets) {
  Allocator a;
  a.setPools({pool("p", {{{"cidr", "198.18.0.0/24"}}, {{"cidr", "2001:db8::/120"}}})});
  Json dual{{"ipFamilyPolicy", "PreferDualStack"}, {"ipFamilies", {"IPv4", "IPv6"}}};
  auto one = a.reconcile(svc("one", dual, {{"l2announcer.io/ips", "198.18.0.7"}}));
  EXPECT_TRUE(one.satisfied);
  EXPECT_EQ(texts(one.addresses), std::vector<std::string>{"198.18.0.7"});
  auto unsaid = a.reconcile(svc("unsaid", Json::object(), {{"l2announcer.io/ips", "198.18.0.8"}}));
  EXPECT_EQ(texts(unsaid.addresses), std::vector<std::string>{"198.18.0.8"});
  auto wrongFamily = a.reconcile(svc("v6", kV4Only, {{"l2announcer.io/ips", "2001:db8::9"}}));
  EXPECT_FALSE(wrongFamily.satisfied);
  EXPECT_EQ(wrongFamily.reason, reasons::kInvalidRequest);
  EXPECT_NE(wrongFamily.message.find("not one of the Service's ipFamilies"), std::string::npos);
  EXPECT_TRUE(wrongFamily.addresses.empty());
}

// Beside another implementation that serves class-less Services, l2announcer serves only its own
// class (--own-class-only).
TEST(Allocator, OwnClassOnlyLeavesOtherServicesAlone) {
  Allocator a;
  a.setPools({pool("p", {{{"cidr", "198.18.0.0/24"}}})});
  k8s::LoadBalancerClasses own{.ownClassOnly = true};
  Json ours = kV4Only;
  ours["loadBalancerClass"] = "l2announcer.io/l2";
  Json cilium = kV4Only;
  cilium["loadBalancerClass"] = "io.cilium/l2-announcer";
  EXPECT_FALSE(parseService(serviceJson("classless", kV4Only), own).qualifies);
  EXPECT_FALSE(parseService(serviceJson("cilium", cilium), own).qualifies);
  EXPECT_TRUE(parseService(serviceJson("ours", ours), own).qualifies);
  EXPECT_TRUE(parseService(serviceJson("classless", kV4Only)).qualifies);  // the default serves it
  EXPECT_TRUE(a.reconcile(parseService(serviceJson("ours", ours), own)).satisfied);
  EXPECT_FALSE(a.reconcile(parseService(serviceJson("classless", kV4Only), own)).handled);
}

TEST(Allocator, SharingKeyRules) {
  Allocator a;
  a.setPools({pool("p", {{{"cidr", "198.18.0.0/24"}}})});
  Json key{{"l2announcer.io/sharing-key", "k"}};
  auto web = a.reconcile(svc("web", kV4Only, key));
  Json dns = kV4Only;
  dns["ports"] = {{{"port", 53}, {"protocol", "UDP"}}};
  EXPECT_EQ(a.reconcile(svc("dns", dns, key)).addresses, web.addresses);  // no port clash: shared
  EXPECT_NE(a.reconcile(svc("web2", kV4Only, key)).addresses, web.addresses);  // port 80 again
  Json local = dns;
  local["ports"] = {{{"port", 443}}};
  local["externalTrafficPolicy"] = "Local";
  EXPECT_NE(a.reconcile(svc("local", local, key)).addresses, web.addresses);  // other policy
  Json cilium{{"lbipam.cilium.io/sharing-key", "k"}};
  Json ssh = kV4Only;
  ssh["ports"] = {{{"port", 22}}};
  EXPECT_EQ(a.reconcile(svc("ssh", ssh, cilium)).addresses, web.addresses);  // alias annotation
  // Another namespace: only when both sides allow it.
  Json other = kV4Only;
  other["ports"] = {{{"port", 8080}}};
  EXPECT_NE(a.reconcile(svc("x", other, key, {}, "other")).addresses, web.addresses);
}

TEST(Allocator, CrossNamespaceSharingNeedsBothSides) {
  Allocator a;
  a.setPools({pool("p", {{{"cidr", "198.18.0.0/24"}}})});
  Json both{{"l2announcer.io/sharing-key", "k"}, {"l2announcer.io/sharing-cross-namespace", "*"}};
  auto first = a.reconcile(svc("a", kV4Only, both, {}, "ns1"));
  Json p2 = kV4Only;
  p2["ports"] = {{{"port", 81}}};
  EXPECT_EQ(a.reconcile(svc("b", p2, both, {}, "ns2")).addresses, first.addresses);
  Json oneSided{{"l2announcer.io/sharing-key", "k"}};
  Json p3 = kV4Only;
  p3["ports"] = {{{"port", 82}}};
  EXPECT_NE(a.reconcile(svc("c", p3, oneSided, {}, "ns3")).addresses, first.addresses);
}

TEST(Allocator, RequestedSharedAddressWithIncompatibleServiceIsRefused) {
  Allocator a;
  a.setPools({pool("p", {{{"cidr", "198.18.0.0/24"}}})});
  Json key{{"l2announcer.io/sharing-key", "k"}, {"l2announcer.io/ips", "198.18.0.9"}};
  ASSERT_TRUE(a.reconcile(svc("a", kV4Only, key)).satisfied);
  auto clash = a.reconcile(svc("b", kV4Only, key));  // same port 80
  EXPECT_EQ(clash.reason, reasons::kIncompatibleService);
}

TEST(Allocator, DualStackPolicies) {
  Allocator a;
  a.setPools({pool("v4", {{{"cidr", "198.18.0.0/24"}}})});
  auto require = a.reconcile(svc("r", {{"ipFamilyPolicy", "RequireDualStack"}, {"ipFamilies", {"IPv4", "IPv6"}}}));
  EXPECT_FALSE(require.satisfied);
  EXPECT_TRUE(require.addresses.empty());
  EXPECT_EQ(require.reason, reasons::kNoPool);
  EXPECT_NE(require.message.find("RequireDualStack"), std::string::npos);
  auto prefer = a.reconcile(svc("p", {{"ipFamilyPolicy", "PreferDualStack"}, {"ipFamilies", {"IPv6", "IPv4"}}}));
  EXPECT_TRUE(prefer.satisfied);
  EXPECT_EQ(prefer.addresses.size(), 1u);
  auto v6only = a.reconcile(svc("six", {{"ipFamilyPolicy", "SingleStack"}, {"ipFamilies", {"IPv6"}}}));
  EXPECT_FALSE(v6only.satisfied);
}

TEST(Allocator, OutOfIpsAndDisabledPools) {
  Allocator a;
  a.setPools({pool("tiny", {{{"cidr", "198.18.0.0/30"}}}, {{"allowFirstLastIPs", "No"}})});
  EXPECT_EQ(texts(a.reconcile(svc("a", kV4Only)).addresses), std::vector<std::string>{"198.18.0.1"});
  EXPECT_EQ(texts(a.reconcile(svc("b", kV4Only)).addresses), std::vector<std::string>{"198.18.0.2"});
  EXPECT_EQ(a.reconcile(svc("c", kV4Only)).reason, reasons::kOutOfIps);
  a.forget("default/a");
  EXPECT_EQ(texts(a.reconcile(svc("c", kV4Only)).addresses), std::vector<std::string>{"198.18.0.1"});
  EXPECT_EQ(u128ToString(a.poolStatus("l2announcer.io/tiny").used), "2");
  // Disabled: existing allocations stay, nothing new.
  a.setPools({pool("tiny", {{{"cidr", "198.18.0.0/30"}}}, {{"allowFirstLastIPs", "No"}, {"disabled", true}})});
  EXPECT_EQ(texts(a.reconcile(svc("b", kV4Only)).addresses), std::vector<std::string>{"198.18.0.2"});
  a.forget("default/c");
  EXPECT_EQ(a.reconcile(svc("d", kV4Only)).reason, reasons::kOutOfIps);
}

TEST(Allocator, RestartImportsStatusBeforeAllocatingAnythingNew) {
  std::vector<Json> services;
  {
    Allocator first;
    first.setPools({pool("p", {{{"cidr", "198.18.0.0/24"}}, {{"cidr", "2001:db8::/120"}}})});
    for (int i = 0; i < 50; ++i) {
      Json s = serviceJson("s" + std::to_string(i));
      auto r = first.reconcile(parseService(s));
      Json ingress = Json::array();
      for (const auto& addr : r.addresses) ingress.push_back({{"ip", addr.toString()}});
      s["status"] = {{"loadBalancer", {{"ingress", ingress}}}};
      services.push_back(s);
    }
    first.forget("default/s0");  // a freed address the new instance must not hand out twice
  }
  Allocator second;
  second.setPools({pool("p", {{{"cidr", "198.18.0.0/24"}}, {{"cidr", "2001:db8::/120"}}})});
  // A new service appears first in the list: the import pass must still come first.
  auto newcomer = parseService(serviceJson("newcomer"));
  second.reconcile(newcomer, false);
  for (const auto& s : services) second.reconcile(parseService(s), false);
  auto n = second.reconcile(newcomer);
  int reassigned = 0;
  for (const auto& s : services) {
    auto r = second.reconcile(parseService(s));
    std::vector<std::string> before;
    for (const auto& i : s["status"]["loadBalancer"]["ingress"]) before.push_back(i["ip"]);
    if (texts(r.addresses) != before) ++reassigned;
    for (const auto& addr : r.addresses) EXPECT_EQ(std::count(n.addresses.begin(), n.addresses.end(), addr), 0);
  }
  EXPECT_EQ(reassigned, 0);
}

TEST(Allocator, ShrinkingAPoolMovesOnlyWhatLeftIt) {
  Allocator a;
  a.setPools({pool("p", {{{"start", "198.18.0.1"}, {"stop", "198.18.0.10"}}})});
  std::vector<std::vector<Address>> before;
  for (int i = 0; i < 5; ++i) before.push_back(a.reconcile(svc("s" + std::to_string(i), kV4Only)).addresses);
  auto affected = a.setPools({pool("p", {{{"start", "198.18.0.3"}, {"stop", "198.18.0.10"}}})});
  EXPECT_EQ(affected, (std::set<std::string>{"default/s0", "default/s1"}));
  for (int i = 2; i < 5; ++i) EXPECT_EQ(a.reconcile(svc("s" + std::to_string(i), kV4Only)).addresses, before[i]);
  auto moved = a.reconcile(svc("s0", kV4Only));
  EXPECT_TRUE(moved.satisfied);
  EXPECT_EQ(texts(moved.addresses), std::vector<std::string>{"198.18.0.6"});
}

TEST(Allocator, NewerOverlappingPoolIsConflicting) {
  Allocator a;
  a.setPools({pool("old", {{{"cidr", "198.18.0.0/24"}}}, {}, "2026-01-01T00:00:00Z"),
              pool("a-new", {{{"cidr", "198.18.0.128/25"}}}, {}, "2026-02-01T00:00:00Z"),
              pool("self", {{{"cidr", "198.18.9.0/24"}}, {{"start", "198.18.9.5"}}}, {}, "2026-01-01T00:00:00Z")});
  EXPECT_TRUE(a.poolStatus("l2announcer.io/a-new").conflicting);
  EXPECT_NE(a.poolStatus("l2announcer.io/a-new").conflictReason.find("old"), std::string::npos);
  EXPECT_FALSE(a.poolStatus("l2announcer.io/old").conflicting);
  EXPECT_TRUE(a.poolStatus("l2announcer.io/self").conflicting);
  // "a-new" sorts first by name, yet allocates nothing.
  EXPECT_EQ(texts(a.reconcile(svc("s", kV4Only)).addresses), std::vector<std::string>{"198.18.0.0"});
  a.setPools({pool("old", {{{"cidr", "198.18.0.0/25"}}}, {}, "2026-01-01T00:00:00Z"),
              pool("a-new", {{{"cidr", "198.18.0.128/25"}}}, {}, "2026-02-01T00:00:00Z")});
  EXPECT_FALSE(a.poolStatus("l2announcer.io/a-new").conflicting);
}

TEST(Allocator, DeletedPoolRehomesOrReallocates) {
  Allocator a;
  a.setPools({pool("big", {{{"cidr", "198.18.0.0/24"}}}, {}, "2026-01-01T00:00:00Z"),
              pool("other", {{{"cidr", "198.18.5.0/24"}}}, {}, "2026-01-02T00:00:00Z")});
  auto s = a.reconcile(svc("s", kV4Only, {{"l2announcer.io/ips", "198.18.0.5"}}));
  auto t = a.reconcile(svc("t", kV4Only));
  ASSERT_EQ(texts(t.addresses), std::vector<std::string>{"198.18.0.0"});
  // A second pool also containing 198.18.0.0/28 but created later is conflicting while "big"
  // lives; once "big" is deleted it takes over, and the addresses stay.
  auto affected = a.setPools({pool("small", {{{"cidr", "198.18.0.0/28"}}}, {}, "2026-03-01T00:00:00Z"),
                              pool("other", {{{"cidr", "198.18.5.0/24"}}}, {}, "2026-01-02T00:00:00Z")});
  EXPECT_TRUE(affected.empty());
  EXPECT_EQ(a.reconcile(svc("t", kV4Only)).addresses, t.addresses);
  affected = a.setPools({pool("other", {{{"cidr", "198.18.5.0/24"}}}, {}, "2026-01-02T00:00:00Z")});
  EXPECT_EQ(affected, (std::set<std::string>{"default/s", "default/t"}));
  EXPECT_EQ(texts(a.reconcile(svc("t", kV4Only)).addresses), std::vector<std::string>{"198.18.5.0"});
  EXPECT_EQ(a.reconcile(svc("s", kV4Only, {{"l2announcer.io/ips", "198.18.0.5"}})).reason, reasons::kNoPool);
}

TEST(Allocator, ServicesThatStopQualifyingAreFreed) {
  Allocator a;
  a.setPools({pool("p", {{{"cidr", "198.18.0.0/24"}}})});
  auto r = a.reconcile(svc("s", kV4Only));
  ASSERT_TRUE(r.satisfied);
  EXPECT_FALSE(a.reconcile(svc("s", {{"type", "ClusterIP"}})).handled);
  EXPECT_EQ(a.allocationCount(), 0u);
  EXPECT_FALSE(a.reconcile(svc("s", {{"loadBalancerClass", "example.com/other"}})).handled);
  EXPECT_TRUE(a.reconcile(svc("s", {{"loadBalancerClass", "io.cilium/l2-announcer"}, {"ipFamilyPolicy", "SingleStack"}})).handled);
  EXPECT_TRUE(a.reconcile(svc("s", {{"loadBalancerClass", "l2announcer.io/l2"}, {"ipFamilyPolicy", "SingleStack"}})).handled);
}

TEST(Allocator, HugePoolsCostOnlyWhatIsAllocated) {
  Allocator a;
  a.setPools({pool("v4", {{{"cidr", "198.0.0.0/8"}}}), pool("v6", {{{"cidr", "2001:db8::/64"}}})});
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(a.reconcile(svc("s" + std::to_string(i))).satisfied);
  EXPECT_EQ(a.allocationCount(), 20000u);
  EXPECT_EQ(u128ToString(a.poolStatus("l2announcer.io/v6").total), "18446744073709551616");
  EXPECT_EQ(u128ToString(a.poolStatus("l2announcer.io/v6").used), "10000");
  EXPECT_EQ(texts(a.addressesOf("default/s9999")), (std::vector<std::string>{"198.0.39.15", "2001:db8::270f"}));
}

// A pool's used count is kept as allocations come and go (it is asked after every pass): after
// each step it equals the distinct addresses the Services hold inside the pool — shared ones
// once, addresses re-homed into a renamed pool moved with them, those a shrunk pool dropped gone.
TEST(Allocator, PoolUsageFollowsEveryAllocationChange) {
  Allocator a;
  std::vector<std::string> keys;
  auto distinctIn = [&](const Pool& p) {
    std::set<std::string> held;
    for (const auto& k : keys) {
      for (const Address& x : a.addressesOf(k)) {
        if (p.contains(x)) held.insert(x.toString());
      }
    }
    return std::to_string(held.size());
  };
  auto expectUsage = [&](const std::vector<Pool>& pools, const std::string& step) {
    for (const Pool& p : pools) EXPECT_EQ(u128ToString(a.poolStatus(p.key).used), distinctIn(p)) << step << ": " << p.key;
  };
  const Json tierA{{"serviceSelector", {{"matchLabels", {{"tier", "a"}}}}}};
  std::vector<Pool> pools{pool("a", {{{"cidr", "198.18.0.0/24"}}}, tierA),
                          pool("b", {{{"cidr", "198.18.1.0/24"}}}, {{"serviceSelector", {{"matchLabels", {{"tier", "b"}}}}}})};
  a.setPools(pools);
  for (int i = 0; i < 30; ++i) {
    std::string name = "s" + std::to_string(i);
    Json labels{{"tier", i < 10 ? "b" : "a"}};
    // Two Services share one address (a sharing key); each a port of its own.
    Json annotations = i >= 28 ? Json{{"l2announcer.io/sharing-key", "k"}} : Json::object();
    Json spec = kV4Only;
    spec["ports"] = {{{"port", 80 + i}, {"protocol", "TCP"}}};
    ASSERT_TRUE(a.reconcile(svc(name, spec, annotations, labels)).satisfied) << name;
    keys.push_back("default/" + name);
  }
  EXPECT_EQ(u128ToString(a.poolStatus("l2announcer.io/a").used), "19");  // 20 Services, one address shared
  expectUsage(pools, "allocated");
  for (int i = 10; i < 15; ++i) a.forget("default/s" + std::to_string(i));
  a.forget("default/s28");  // the shared address stays with s29
  expectUsage(pools, "forgotten");
  // a renamed c: its allocations re-homed there.
  pools = {pool("c", {{{"cidr", "198.18.0.0/24"}}}, tierA), pools[1]};
  a.setPools(pools);
  EXPECT_EQ(u128ToString(a.poolStatus("l2announcer.io/a").used), "0");
  EXPECT_EQ(u128ToString(a.poolStatus("l2announcer.io/c").used), "14");
  expectUsage(pools, "renamed");
  // c shrunk to a /29: what falls outside is dropped, and those Services get what is left.
  pools = {pool("c", {{{"cidr", "198.18.0.0/29"}}}, tierA), pools[1]};
  for (const std::string& k : a.setPools(pools)) a.reconcile(svc(k.substr(k.find('/') + 1), kV4Only, Json::object(), {{"tier", "a"}}));
  EXPECT_EQ(u128ToString(a.poolStatus("l2announcer.io/c").used), "8");
  expectUsage(pools, "shrunk");
}

}  // namespace
}  // namespace l2a::ipam

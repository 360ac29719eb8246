// MetalLB's IPAddressPool read as it is: its addresses, autoAssign, avoidBuggyIPs and
// serviceAllocation, through the same allocator as our own pools.
#include <gtest/gtest.h>

#include "ipam/allocator.h"
#include "ipam/pool.h"

namespace l2a::ipam {
namespace {

using Json = nlohmann::json;

Pool metallbPool(const std::string& name, Json spec, Json labels = Json::object()) {
  return parsePool({{"apiVersion", "metallb.io/v1beta1"},
                    {"kind", "IPAddressPool"},
                    {"metadata", {{"name", name}, {"namespace", "metallb-system"}, {"labels", labels}}},
                    {"spec", spec}},
                   "metallb.io");
}

ServiceRequest service(const std::string& name, const std::string& ns = "default", Json annotations = Json::object(),
                       Json labels = Json::object()) {
  return parseService({{"metadata", {{"name", name}, {"namespace", ns}, {"annotations", annotations}, {"labels", labels}}},
                       {"spec", {{"type", "LoadBalancer"}, {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}}});
}

std::string first(const AllocationResult& r) { return r.addresses.empty() ? "" : r.addresses[0].toString(); }

TEST(MetallbPool, CidrsAndRangesWithEveryAddressOfACidr) {
  Pool p = metallbPool("first-pool", {{"addresses", {"198.18.0.192/28", "198.18.0.210 - 198.18.0.215", "2001:db8::/126"}}});
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.key, "metallb.io/first-pool");
  EXPECT_EQ(p.ns, "metallb-system");
  // MetalLB reserves nothing in a CIDR: .192 and .207 are addresses like any other.
  EXPECT_TRUE(p.contains(*Address::parse("198.18.0.192")));
  EXPECT_TRUE(p.contains(*Address::parse("198.18.0.207")));
  EXPECT_TRUE(p.contains(*Address::parse("198.18.0.212")));
  EXPECT_FALSE(p.contains(*Address::parse("198.18.0.209")));
  EXPECT_EQ(p.total(), U128(16 + 6 + 4));
}

TEST(MetallbPool, BadAddressesAreReasonsNeverExceptions) {
  Pool p = metallbPool("bad", {{"addresses", {"198.18.0.10", "198.18.0.20-198.18.0.10", "2001:db8::1-198.18.0.1", 7}},
                               {"serviceAllocation", {{"serviceSelectors", {{{"matchExpressions", {{{"key", "a"}, {"operator", "Bogus"}}}}}}}}}});
  EXPECT_TRUE(p.ranges.empty());
  ASSERT_EQ(p.errors.size(), 5u);
  EXPECT_EQ(p.errors[0], "address '198.18.0.10' is neither a CIDR nor a range a-b");
  EXPECT_EQ(p.errors[1], "range 198.18.0.20-198.18.0.10: 198.18.0.20 is after 198.18.0.10");
  EXPECT_EQ(p.errors[2], "range 2001:db8::1-198.18.0.1 mixes IPv4 and IPv6");
  EXPECT_EQ(p.errors[3], "address 7 is not a string");
  EXPECT_NE(p.errors[4].find("invalid serviceAllocation.serviceSelectors"), std::string::npos);
  Pool wrongType = metallbPool("wrong", {{"addresses", "198.18.0.0/24"}, {"autoAssign", "yes"}});
  ASSERT_EQ(wrongType.errors.size(), 1u);
  EXPECT_NE(wrongType.errors[0].find("malformed object"), std::string::npos);
}

TEST(MetallbPool, AvoidBuggyIpsLeavesOutDotZeroAndDot255) {
  Pool p = metallbPool("buggy", {{"addresses", {"198.18.0.254-198.18.2.1"}}, {"avoidBuggyIPs", true}});
  EXPECT_FALSE(p.contains(*Address::parse("198.18.0.255")));
  EXPECT_FALSE(p.contains(*Address::parse("198.18.1.0")));
  EXPECT_FALSE(p.contains(*Address::parse("198.18.2.0")));
  EXPECT_TRUE(p.contains(*Address::parse("198.18.1.1")));
  EXPECT_EQ(p.total(), U128(260 - 4));  // .0.255, .1.0, .1.255, .2.0 and nothing else
  Allocator a;
  a.setPools({metallbPool("tiny", {{"addresses", {"198.18.3.254-198.18.4.1"}}, {"avoidBuggyIPs", true}})});
  EXPECT_EQ(first(a.reconcile(service("s1"))), "198.18.3.254");
  EXPECT_EQ(first(a.reconcile(service("s2"))), "198.18.4.1");
  EXPECT_EQ(a.reconcile(service("s3")).reason, reasons::kOutOfIps);
  // Asked for by name, a buggy address is not the pool's.
  auto asked = a.reconcile(service("s4", "default", {{"metallb.io/loadBalancerIPs", "198.18.4.0"}}));
  EXPECT_FALSE(asked.satisfied);
}

TEST(MetallbPool, AutoAssignFalseServesOnlyServicesThatAskForIt) {
  Allocator a;
  a.setPools({metallbPool("expensive", {{"addresses", {"198.18.9.0/30"}}, {"autoAssign", false}})});
  EXPECT_EQ(a.reconcile(service("plain")).reason, reasons::kNoPool);
  EXPECT_EQ(first(a.reconcile(service("named", "default", {{"metallb.io/address-pool", "expensive"}}))), "198.18.9.0");
  EXPECT_EQ(first(a.reconcile(service("asked", "default", {{"metallb.io/loadBalancerIPs", "198.18.9.3"}}))), "198.18.9.3");
}

TEST(MetallbPool, PriorityDecidesWhichPoolIsTriedFirst) {
  Allocator a;
  a.setPools({metallbPool("a-cheap", {{"addresses", {"198.18.1.0/30"}}}),
              metallbPool("z-low", {{"addresses", {"198.18.2.0/30"}}, {"serviceAllocation", {{"priority", 50}}}}),
              metallbPool("y-high", {{"addresses", {"198.18.3.0/30"}}, {"serviceAllocation", {{"priority", 10}}}})});
  EXPECT_EQ(first(a.reconcile(service("s"))), "198.18.3.0");
}

TEST(MetallbPool, NamespacesAndServiceSelectorsScopeThePool) {
  Allocator a;
  a.setPools({metallbPool("team", {{"addresses", {"198.18.4.0/30"}},
                                   {"serviceAllocation", {{"namespaces", {"team-a"}},
                                                          {"namespaceSelectors", {{{"matchLabels", {{"tenant", "b"}}}}}},
                                                          {"serviceSelectors", {{{"matchLabels", {{"tier", "web"}}}},
                                                                                {{"matchLabels", {{"tier", "api"}}}}}}}}})});
  EXPECT_EQ(a.reconcile(service("web", "team-a", {}, {{"tier", "web"}})).satisfied, true);
  EXPECT_EQ(a.reconcile(service("api", "team-a", {}, {{"tier", "api"}})).satisfied, true);
  EXPECT_EQ(a.reconcile(service("db", "team-a", {}, {{"tier", "db"}})).reason, reasons::kNoPool);
  EXPECT_EQ(a.reconcile(service("other", "default", {}, {{"tier", "web"}})).reason, reasons::kNoPool);
  ServiceRequest labelled = service("b-web", "team-b", {}, {{"tier", "web"}});
  EXPECT_EQ(a.reconcile(labelled).reason, reasons::kNoPool);
  labelled.namespaceLabels = {{"tenant", "b"}};  // the Namespace carries the label the pool selects
  EXPECT_TRUE(a.reconcile(labelled).satisfied);
  // What explain says of each refusal.
  const Pool& team = a.pools()[0];
  EXPECT_EQ(Allocator::refusal(team, service("db", "team-a", {}, {{"tier", "db"}})),
            "none of serviceAllocation.serviceSelectors matches");
  EXPECT_EQ(Allocator::refusal(team, service("other", "default", {}, {{"tier", "web"}})),
            "namespace default is not among serviceAllocation's namespaces");
  EXPECT_EQ(Allocator::refusal(team, service("named", "team-a", {{"metallb.io/address-pool", "gold"}}, {{"tier", "web"}})),
            "the Service names another pool (gold)");
  EXPECT_EQ(Allocator::refusal(team, labelled), "");
}

}  // namespace
}  // namespace l2a::ipam

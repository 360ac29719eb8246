#include "k8s/interface_selector.h"

#include <gtest/gtest.h>

namespace l2a::k8s {
namespace {

TEST(InterfaceSelector, EmptyListSelectsEverything) {
  InterfaceSelector all;
  EXPECT_TRUE(all.matches("eth0"));
  EXPECT_TRUE(InterfaceSelector::create({})->matches("bond0"));
}

TEST(InterfaceSelector, PatternsAreSearchedAndOred) {
  auto s = InterfaceSelector::create({"^eth[0-9]+$", "bond"});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->matches("eth0"));
  EXPECT_TRUE(s->matches("eth12"));
  EXPECT_FALSE(s->matches("eth0.100"));
  EXPECT_FALSE(s->matches("veth0"));
  EXPECT_TRUE(s->matches("bond0"));  // searched, as Cilium does, not anchored
  EXPECT_FALSE(s->matches("lo"));
}

TEST(InterfaceSelector, BadRegexIsAnErrorNamingIt) {
  auto s = InterfaceSelector::create({"eth0", "eth["});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "bad_regex");
  EXPECT_NE(s.error().message.find("eth["), std::string::npos);
}

}  // namespace
}  // namespace l2a::k8s

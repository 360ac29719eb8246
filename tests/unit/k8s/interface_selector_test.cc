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
  EXPECT_NE(s.error().message.find("missing ]"), std::string::npos) << s.error().message;
}

// The syntax of Go's regexp, which Cilium's manifests are written in: inline flags, \z, named
// groups with (?P<...>), Perl classes.
TEST(InterfaceSelector, GoSyntaxAsCiliumWritesIt) {
  auto s = InterfaceSelector::create({"(?i)^ETH\\d+\\z"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->matches("eth0"));
  EXPECT_TRUE(s->matches("Eth12"));
  EXPECT_FALSE(s->matches("eth0.100"));
  auto named = InterfaceSelector::create({"^(?P<kind>bond|team)[0-9]$"});
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_TRUE(named->matches("team1"));
  EXPECT_FALSE(named->matches("teams"));
}

// What Go's regexp refuses is refused here too, with its reason (no backreferences, no
// lookaround: what makes matching linear).
TEST(InterfaceSelector, BackreferencesAndLookaroundAreRefused) {
  for (const char* pattern : {"(eth)\\1", "eth(?=0)", "eth(?!0)"}) {
    auto s = InterfaceSelector::create({pattern});
    ASSERT_FALSE(s.ok()) << pattern;
    EXPECT_EQ(s.error().code, "bad_regex");
    EXPECT_NE(s.error().message.find(pattern), std::string::npos) << s.error().message;
  }
}

// Linear time: a pattern that takes a backtracking engine exponential time on a long name.
TEST(InterfaceSelector, CatastrophicPatternMatchesInLinearTime) {
  auto s = InterfaceSelector::create({"^(a+)+$"});
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->matches(std::string(4096, 'a') + "!"));
  EXPECT_TRUE(s->matches(std::string(4096, 'a')));
}

TEST(InterfaceSelector, CopiesShareTheCompiledPatterns) {
  auto s = InterfaceSelector::create({"^eth0$"});
  ASSERT_TRUE(s.ok());
  InterfaceSelector copy = *s;
  EXPECT_TRUE(copy.matches("eth0"));
  EXPECT_FALSE(copy.matches("eth1"));
  EXPECT_EQ(copy.patterns(), s->patterns());
}

}  // namespace
}  // namespace l2a::k8s

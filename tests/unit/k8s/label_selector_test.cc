#include "k8s/label_selector.h"

#include <gtest/gtest.h>

namespace l2a::k8s {
namespace {

using Json = nlohmann::json;

TEST(LabelSelector, NullAndEmptySelectEverything) {
  EXPECT_TRUE(LabelSelector::fromJson(Json())->matches({}));
  EXPECT_TRUE(LabelSelector::fromJson(Json::object())->matches({{"a", "b"}}));
}

TEST(LabelSelector, MatchLabelsAndExpressions) {
  auto s = LabelSelector::fromJson(Json::parse(R"({"matchLabels":{"announcement":"l2"},
    "matchExpressions":[{"key":"node-role.kubernetes.io/control-plane","operator":"DoesNotExist"},
                        {"key":"zone","operator":"In","values":["a","b"]},
                        {"key":"tier","operator":"NotIn","values":["db"]},
                        {"key":"team","operator":"Exists"}]})"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  Labels good{{"announcement", "l2"}, {"zone", "a"}, {"team", "x"}};
  EXPECT_TRUE(s->matches(good));
  auto with = [&](const std::string& k, const std::string& v) { Labels l = good; l[k] = v; return l; };
  EXPECT_FALSE(s->matches(with("announcement", "bgp")));
  EXPECT_FALSE(s->matches(with("node-role.kubernetes.io/control-plane", "")));
  EXPECT_FALSE(s->matches(with("zone", "c")));
  EXPECT_FALSE(s->matches(with("tier", "db")));
  Labels noTeam = good;
  noTeam.erase("team");
  EXPECT_FALSE(s->matches(noTeam));
}

TEST(LabelSelector, InvalidSelectorsAreErrors) {
  for (const char* bad : {R"({"matchExpressions":[{"key":"a","operator":"Near"}]})",
                          R"({"matchExpressions":[{"key":"a","operator":"In"}]})",
                          R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})",
                          R"({"matchLabels":{"a":1}})", R"("text")"}) {
    auto s = LabelSelector::fromJson(Json::parse(bad));
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, "invalid_selector");
  }
}

// Packed labels give back every label as it was — empty values, long names and values (a
// length past one LEB128 byte), bytes JSON allows (a NUL, UTF-8) — and nothing else.
TEST(PackedLabels, EveryLabelComesBackAsItWasAndNoOther) {
  std::string longValue(300, 'v');
  std::string odd("a\0b", 3);
  Labels labels{{"app", "shop"}, {"node-role.kubernetes.io/control-plane", ""}, {"long", longValue},
                {odd, "x\xc3\xa9"}, {std::string(128, 'k'), "128"}};
  PackedLabels packed(labels);
  for (const auto& [name, value] : labels) {
    auto found = packed.find(name);
    ASSERT_TRUE(found.has_value()) << name;
    EXPECT_EQ(*found, value) << name;
  }
  EXPECT_FALSE(packed.find("ap").has_value());
  EXPECT_FALSE(packed.find("shop").has_value()) << "a value found as a name";
  EXPECT_FALSE(packed.find("a").has_value());
  EXPECT_FALSE(packed.empty());
  EXPECT_TRUE(PackedLabels().empty());
  EXPECT_FALSE(PackedLabels().find("app").has_value());
  EXPECT_EQ(packed, PackedLabels(labels));
  EXPECT_FALSE(packed == (PackedLabels{{"app", "shop"}}));
}

}  // namespace
}  // namespace l2a::k8s

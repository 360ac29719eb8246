#include "lab/selector.h"

#include <gtest/gtest.h>

namespace l2a::lab {
namespace {

TEST(LabelSelector, AllOperators) {
  nlohmann::json labels{{"app", "web"}, {"tier", "front"}, {"canary", "yes"}};
  auto match = [&](const char* s) { return LabelSelector::parse(s).value().matches(labels); };
  EXPECT_TRUE(match(""));
  EXPECT_TRUE(match("app=web"));
  EXPECT_TRUE(match("app==web,tier=front"));
  EXPECT_FALSE(match("app=db"));
  EXPECT_TRUE(match("app!=db"));
  EXPECT_TRUE(match("missing!=x"));
  EXPECT_TRUE(match("tier in (front,back)"));
  EXPECT_FALSE(match("tier notin (front, back)"));
  EXPECT_TRUE(match("canary"));
  EXPECT_FALSE(match("!canary"));
  EXPECT_TRUE(match("!missing,app in (web)"));
  EXPECT_FALSE(match("missing"));
  EXPECT_FALSE(LabelSelector::parse("tier in front").ok());
  EXPECT_FALSE(LabelSelector::parse("a=b,,c=d").ok());
  EXPECT_FALSE(LabelSelector::parse("bad key=x").ok());
}

TEST(FieldSelector, DottedPaths) {
  nlohmann::json o{{"metadata", {{"name", "n1"}, {"namespace", "default"}}}, {"spec", {{"nodeName", "w1"}}}};
  auto match = [&](const char* s) { return FieldSelector::parse(s).value().matches(o); };
  EXPECT_TRUE(match("metadata.name=n1"));
  EXPECT_TRUE(match("metadata.name=n1,spec.nodeName!=w2"));
  EXPECT_FALSE(match("metadata.namespace=kube-system"));
  EXPECT_TRUE(match("spec.missing="));
  EXPECT_FALSE(FieldSelector::parse("metadata.name").ok());
}

}  // namespace
}  // namespace l2a::lab

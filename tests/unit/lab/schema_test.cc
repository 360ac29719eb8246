#include "lab/schema.h"

#include <gtest/gtest.h>

namespace l2a::lab {
namespace {

using Json = nlohmann::json;

const Json kPoolSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
    "spec": {"type": "object", "properties": {
      "blocks": {"type": "array", "items": {"type": "object", "properties": {"cidr": {"type": "string"}}}},
      "serviceSelector": {"type": "object", "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}}},
      "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
    "status": {"type": "object", "properties": {"conditions": {"type": "array", "items": {"type": "object"}}}}}})");

// kube-apiserver refused the first CRDs of this project for exactly this.
TEST(Schema, AdditionalPropertiesBesidePropertiesIsNotStructural) {
  EXPECT_TRUE(structuralErrors(kPoolSchema).empty());
  Json bad = kPoolSchema;
  bad["properties"]["spec"]["additionalProperties"] = false;
  auto errors = structuralErrors(bad);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "spec.validation.openAPIV3Schema.properties[spec].additionalProperties: Forbidden: "
                       "additionalProperties and properties are mutual exclusive");
  Json untyped = kPoolSchema;
  untyped["properties"]["spec"]["properties"]["blocks"].erase("type");
  EXPECT_EQ(structuralErrors(untyped).size(), 1u);
}

TEST(Schema, PruningDropsWhatIsNotDeclaredAndSaysWhere) {
  Json pool = Json::parse(R"({"apiVersion": "l2announcer.io/v1alpha1", "kind": "LoadBalancerIPPool",
    "metadata": {"name": "p", "labels": {"a": "b"}},
    "spec": {"blocks": [{"cidr": "198.18.0.0/24", "color": "blue"}], "colour": 1,
             "serviceSelector": {"matchLabels": {"x": "y"}}, "extra": {"anything": {"goes": true}}},
    "status": {"conditions": [{"type": "T"}], "conflicting": "False"}})");
  auto removed = prune(pool, kPoolSchema);
  // A `type: object` without properties keeps nothing (conditions[0].type), as kube-apiserver prunes.
  EXPECT_EQ(removed, (std::vector<std::string>{"spec.blocks[0].color", "spec.colour", "status.conditions[0].type",
                                               "status.conflicting"}));
  EXPECT_FALSE(pool["spec"]["blocks"][0].contains("color"));
  EXPECT_EQ(pool["spec"]["serviceSelector"]["matchLabels"]["x"], "y");  // additionalProperties
  EXPECT_TRUE(pool["spec"]["extra"]["anything"]["goes"]);                 // preserved
  EXPECT_EQ(pool["metadata"]["labels"]["a"], "b");                        // metadata is never pruned
  EXPECT_TRUE(prune(pool, kPoolSchema).empty());
}

}  // namespace
}  // namespace l2a::lab

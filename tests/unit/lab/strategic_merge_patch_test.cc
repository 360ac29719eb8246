#include "lab/strategic_merge_patch.h"

#include <gtest/gtest.h>

namespace l2a::lab {
namespace {

using Json = nlohmann::json;

TEST(StrategicMergePatch, KubectlApplyChangingAServicePort) {
  // What kubectl apply sent when a Service's port moved from 80 to 8080.
  Json original = Json::parse(R"({"spec":{"ports":[{"port":80,"protocol":"TCP"}],"type":"LoadBalancer"}})");
  Json patch = Json::parse(R"({"spec":{"$setElementOrder/ports":[{"port":8080}],
      "ports":[{"port":8080,"protocol":"TCP"},{"$patch":"delete","port":80}]}})");
  EXPECT_EQ(applyStrategicMergePatch(original, patch),
            Json::parse(R"({"spec":{"ports":[{"port":8080,"protocol":"TCP"}],"type":"LoadBalancer"}})"));
}

TEST(StrategicMergePatch, MergesListItemsByTheOrderKeys) {
  Json original = Json::parse(R"({"ports":[{"port":80,"name":"http","nodePort":30080},{"port":443,"name":"https"}]})");
  Json patch = Json::parse(R"({"$setElementOrder/ports":[{"port":80},{"port":443}],"ports":[{"port":80,"name":"web"}]})");
  EXPECT_EQ(applyStrategicMergePatch(original, patch),
            Json::parse(R"({"ports":[{"port":80,"name":"web","nodePort":30080},{"port":443,"name":"https"}]})"));
}

TEST(StrategicMergePatch, MapDirectivesAndPrimitiveLists) {
  Json original = Json::parse(R"({"a":{"x":1,"y":2},"b":{"k":1},"f":["x","y","z"],"keep":1})");
  Json patch = Json::parse(R"({"a":{"$patch":"replace","z":3},"b":{"$patch":"delete"},
      "$deleteFromPrimitiveList/f":["y"],"keep":null})");
  EXPECT_EQ(applyStrategicMergePatch(original, patch), Json::parse(R"({"a":{"z":3},"f":["x","z"]})"));
}

TEST(StrategicMergePatch, PlainFieldsBehaveAsMergePatch) {
  Json original = Json::parse(R"({"metadata":{"labels":{"a":"1","b":"2"}}})");
  Json patch = Json::parse(R"({"metadata":{"labels":{"a":null,"c":"3"}}})");
  EXPECT_EQ(applyStrategicMergePatch(original, patch), Json::parse(R"({"metadata":{"labels":{"b":"2","c":"3"}}})"));
}

TEST(StrategicMergePatch, ConditionsAreMergedByTypeAsTheBuiltInKindsDo) {
  // An agent's Announced condition must not remove the operator's, nor the operator's the agent's.
  Json original = Json::parse(R"({"status":{"conditions":[{"type":"l2announcer.io/IPAMRequestSatisfied","status":"True"},
      {"type":"l2announcer.io/Announced","status":"False","reason":"NoCandidateNode"}]}})");
  Json patch = Json::parse(R"({"status":{"conditions":[{"type":"l2announcer.io/Announced","status":"True","reason":"Announced"},
      {"type":"New","status":"True"}]}})");
  EXPECT_EQ(applyStrategicMergePatch(original, patch), Json::parse(R"({"status":{"conditions":[
      {"type":"l2announcer.io/IPAMRequestSatisfied","status":"True"},
      {"type":"l2announcer.io/Announced","status":"True","reason":"Announced"},{"type":"New","status":"True"}]}})"));
  // Items without a string type: replaced, as before.
  EXPECT_EQ(applyStrategicMergePatch(original, Json::parse(R"({"status":{"conditions":[{"x":1}]}})"))["status"]["conditions"],
            Json::parse(R"([{"x":1}])"));
}

}  // namespace
}  // namespace l2a::lab

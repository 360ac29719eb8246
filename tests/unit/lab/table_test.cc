#include "lab/table.h"

#include <gtest/gtest.h>

#include "lab/api_server.h"

namespace l2a::lab {
namespace {

using Json = nlohmann::json;

// Cilium's pool columns read conditions through JSONPath filters, as kube-apiserver shows them.
TEST(Table, PrinterColumnsFollowFiltersAndIndexes) {
  ResourceInfo info;
  info.group = "cilium.io";
  info.plural = "ciliumloadbalancerippools";
  info.printerColumns = Json::parse(R"([
    {"name": "Disabled", "type": "boolean", "jsonPath": ".spec.disabled"},
    {"name": "Conflicting", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"cilium.io/PoolConflict\")].status"},
    {"name": "IPs Available", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"cilium.io/IPsAvailable\")].message"},
    {"name": "First", "type": "string", "jsonPath": ".spec.blocks[0].cidr"},
    {"name": "Missing", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"nope\")].message"}])");
  Json pool = Json::parse(R"({"metadata": {"name": "seed-pool"},
    "spec": {"disabled": false, "blocks": [{"cidr": "198.18.0.128/28"}]},
    "status": {"conditions": [{"type": "cilium.io/IPsAvailable", "status": "Unknown", "message": "15"},
                              {"type": "cilium.io/PoolConflict", "status": "False", "message": "none"}]}})");
  Json table = toTable(info, {pool}, "7");
  Json cells = table["rows"][0]["cells"];
  EXPECT_EQ(cells[0], "seed-pool");
  EXPECT_EQ(cells[1], "false");
  EXPECT_EQ(cells[2], "False");
  EXPECT_EQ(cells[3], "15");
  EXPECT_EQ(cells[4], "198.18.0.128/28");
  EXPECT_EQ(cells[5], "");
}

TEST(Table, AColumnKeepsItsPriorityForKubectlToHideWithoutWide) {
  ResourceInfo info;
  info.group = "l2announcer.io";
  info.plural = "l2announcements";
  info.printerColumns = Json::parse(R"([{"name": "Node", "type": "string", "jsonPath": ".status.node"},
    {"name": "Cause", "type": "string", "jsonPath": ".status.cause", "priority": 1}])");
  Json table = toTable(info, {Json::parse(R"({"metadata": {"name": "r"}, "status": {"node": "w1", "cause": "wire"}})")}, "1");
  EXPECT_EQ(table["columnDefinitions"][1]["priority"], 0);
  EXPECT_EQ(table["columnDefinitions"][2]["priority"], 1);
  EXPECT_EQ(table["rows"][0]["cells"][2], "wire");
}

}  // namespace
}  // namespace l2a::lab

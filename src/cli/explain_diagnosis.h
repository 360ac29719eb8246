// The steps of `l2a explain` that decide, apart from those that read (the cluster, by
// explain_command.cc) and those that show (its text and JSON renderers):
//   diagnose       one Service's chain — type and class, IPAM, policies, candidate nodes and why
//                  the others are not, the owner and its Lease — and the first link that breaks.
//                  Pure: unit-tested verdict by verdict.
//   addWireReport  what the LAN says: who answered each address (the probe is passed in) and
//                  what the agents' heartbeats say, compared with the plan.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/whohas_command.h"
#include "ipam/pool.h"
#include "policy/assignment.h"

namespace l2a::cli {

// What explain read of the cluster, planned as the agents plan it.
struct ExplainSnapshot {
  policy::ClusterView view;
  std::map<std::string, policy::AddressPlan> plans;
  std::vector<std::pair<ipam::Pool, nlohmann::json>> pools;  // parsed, and as read (for status)
  std::map<std::string, nlohmann::json> leaseOfNode;         // the agents' node Leases by node
  std::vector<nlohmann::json> records;                       // L2Announcements (none when not served)
};

// The holders and recorded owners the records give (ClusterView::holders, ::recorded), as the
// agents plan with them; `heartbeats` adds what each node's last heartbeat lists.
void addHolders(policy::ClusterView& view, const std::vector<nlohmann::json>& records,
                const std::map<std::string, wire::Heartbeat>& heartbeats = {});

// One Service's chain as JSON: "steps", "addresses", "verdict" ("announced" or where it stops)
// and "ok".
nlohmann::json diagnose(const nlohmann::json& service, const ExplainSnapshot& snapshot);

// Adds "probe" (and "wire", when heartbeats were heard) to each address of `report`, and moves
// its verdict to the first address the wire disagrees on.
void addWireReport(nlohmann::json& report, const ExplainSnapshot& snapshot,
                   const std::function<Result<ProbeResult>(const std::string& address)>& probeOwnersOf);

}  // namespace l2a::cli

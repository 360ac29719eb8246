// l2a-bench-plan: the real planning code (policy::planAddresses, what every agent runs) on a
// simulated cluster far beyond this machine — no network, no API server. For NODES nodes and
// ADDRESSES addresses (one IPv4 address per Service, one policy for all on eth0) it prints:
//   plan time    a full plan from scratch (what an agent does on every change today)
//   spread       addresses per node: min, mean, max, max/mean (equal weights), and with every
//                other node at weight 2, the weight-2 nodes' share against the ideal
//   death        the busiest node's Lease lapses: addresses whose owner changed, against the
//                addresses it held (minimal movement: equal)
//   join         one more node: addresses that moved, against addresses / (nodes + 1)
//   incremental  policy::Planner (what the agent runs) after one Service's change, the death and
//                the join: time and addresses planned again, its plans checked against a full
//                plan's
// Usage: l2a-bench-plan [--nodes N]... [--addresses N]... (every combination; bench/plan.sh)
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "policy/assignment.h"

using namespace l2a;
using Clock = std::chrono::steady_clock;

namespace {

struct Step {
  double ms;
  size_t planned;
  bool same;  // the incremental plan's owners are the full plan's
};
std::vector<std::string> incremental;  // the second table's rows

policy::ClusterView cluster(int nodes, int addresses, bool weighted) {
  policy::ClusterView view;
  view.servicesInKeyOrder = true;
  view.policies.push_back(policy::parsePolicy(
      {{"metadata", {{"name", "all"}}}, {"spec", {{"loadBalancerIPs", true}, {"interfaces", {"^eth0$"}}}}},
      "l2announcer.io"));
  for (int n = 0; n < nodes; ++n) {
    policy::NodeInfo node{.name = "node-" + std::to_string(n),
                          .labels = {{"kubernetes.io/hostname", "node-" + std::to_string(n)}},
                          .weight = weighted && n % 2 == 1 ? 2.0 : 1.0,
                          .live = true,
                          .interfaces = std::map<std::string, bool>{{"eth0", true}}};
    view.nodes.push_back(std::move(node));
  }
  for (int a = 0; a < addresses; ++a) {
    // 198.18.0.0/15 holds 131,072 addresses.
    std::string ip = "198." + std::to_string(18 + (a >> 16)) + "." + std::to_string((a >> 8) & 255) + "." +
                     std::to_string(a & 255);
    char key[32];  // in key order, as the agent's index gives them
    std::snprintf(key, sizeof key, "default/svc-%06d", a);
    policy::ServiceInfo svc{.key = key,
                            .handled = true,
                            .loadBalancerIPs = {ip}};
    view.services.push_back(std::make_shared<const policy::ServiceInfo>(std::move(svc)));
  }
  return view;
}

std::map<std::string, std::string> owners(const std::map<std::string, policy::AddressPlan>& plans) {
  std::map<std::string, std::string> out;
  for (const auto& [address, plan] : plans) out[address] = plan.owner();
  return out;
}

size_t moved(const std::map<std::string, std::string>& before, const std::map<std::string, std::string>& after) {
  size_t n = 0;
  for (const auto& [address, owner] : before) {
    auto it = after.find(address);
    if (it == after.end() || it->second != owner) ++n;
  }
  return n;
}

void simulate(int nodes, int addresses) {
  policy::ClusterView view = cluster(nodes, addresses, false);
  auto start = Clock::now();
  auto plans = policy::planAddresses(view);
  double planMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  auto before = owners(plans);
  std::map<std::string, size_t> perNode;
  for (const auto& node : view.nodes) perNode[node.name] = 0;
  for (const auto& [address, owner] : before) ++perNode[owner];
  auto [minIt, maxIt] = std::minmax_element(perNode.begin(), perNode.end(),
                                            [](const auto& a, const auto& b) { return a.second < b.second; });
  double mean = static_cast<double>(addresses) / nodes;

  // Weights: every other node at 2 should hold 2/3 of the addresses.
  policy::ClusterView weightedView = cluster(nodes, addresses, true);
  size_t heavy = 0;
  for (const auto& [address, plan] : policy::planAddresses(weightedView)) {
    if (std::stoi(plan.owner().substr(5)) % 2 == 1) ++heavy;
  }
  double idealHeavy = static_cast<double>(addresses) * (2.0 * (nodes / 2)) / (nodes / 2 * 2.0 + (nodes - nodes / 2));

  // The same from the incremental planner, which plans again only what each change touches.
  policy::Planner planner;
  planner.plan(view, nullptr);
  std::vector<Step> steps;
  auto step = [&](const std::set<std::string>* changed) {
    auto started = Clock::now();
    const auto& plans = planner.plan(view, changed);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    steps.push_back({ms, planner.lastPlanned(), owners(plans) == owners(policy::planAddresses(view))});
    return owners(plans);
  };
  // One Service's address changes.
  std::set<std::string> one{view.services[addresses / 2]->key};
  auto changedService = std::make_shared<policy::ServiceInfo>(*view.services[addresses / 2]);
  changedService->loadBalancerIPs = {"198.19.255.254"};
  auto original = std::exchange(view.services[addresses / 2], changedService);
  step(&one);
  view.services[addresses / 2] = original;
  step(&one);

  // The busiest node's Lease lapses.
  std::string victim = maxIt->first;
  size_t victimHeld = maxIt->second;
  for (auto& node : view.nodes) {
    if (node.name == victim) node.live = false;
  }
  std::set<std::string> none;
  size_t movedOnDeath = moved(before, step(&none));
  for (auto& node : view.nodes) node.live = true;
  step(&none);

  // One node joins.
  view.nodes.push_back(policy::NodeInfo{.name = "node-" + std::to_string(nodes),
                                        .labels = {{"kubernetes.io/hostname", "new"}},
                                        .live = true,
                                        .interfaces = std::map<std::string, bool>{{"eth0", true}}});
  size_t movedOnJoin = moved(before, step(&none));
  bool same = std::all_of(steps.begin(), steps.end(), [](const Step& s) { return s.same; });

  std::printf("| %d | %d | %.0f | %zu / %.1f / %zu | %.3f | %.3f | %zu of %zu | %zu (ideal %.0f) |\n", nodes, addresses,
              planMs, minIt->second, mean, maxIt->second, maxIt->second / mean, heavy / idealHeavy, movedOnDeath,
              victimHeld, movedOnJoin, static_cast<double>(addresses) / (nodes + 1));
  incremental.push_back(fmt::format("| {} | {} | {:.0f} | {:.2f} ({}) | {:.1f} ({}) | {:.1f} ({}) | {:.1f} ({}) | {} |", nodes,
                                    addresses, planMs, steps[0].ms, steps[0].planned, steps[2].ms, steps[2].planned,
                                    steps[3].ms, steps[3].planned, steps[4].ms, steps[4].planned, same ? "yes" : "NO"));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Planning at scale: the real planAddresses on a simulated cluster"};
  std::vector<int> nodes{20};
  std::vector<int> addresses{10000};
  app.add_option("--nodes", nodes, "Node counts")->capture_default_str();
  app.add_option("--addresses", addresses, "Address counts (at most 131072)")->capture_default_str()
      ->check(CLI::Range(1, 131072));
  CLI11_PARSE(app, argc, argv);
  std::printf("| nodes | addresses | full plan ms | per node min / mean / max | max / mean | weight-2 share / ideal | moved on the busiest node's death | moved on one node's join |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int n : nodes) {
    for (int a : addresses) simulate(n, a);
  }
  std::printf("\nIncremental (policy::Planner): ms (addresses planned again)\n\n");
  std::printf("| nodes | addresses | full plan ms | one Service changed | busiest node dies | it comes back | one node joins | same as full |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (const std::string& row : incremental) std::printf("%s\n", row.c_str());
  return std::all_of(incremental.begin(), incremental.end(), [](const std::string& r) { return r.ends_with("yes |"); }) ? 0 : 1;
}

// `l2a explain`: "who owns this IP, and if nobody, why?" Reads the API and walks the chain —
// service type/class, IPAM, L2 policies, candidate nodes, the announcer the agents compute
// (and its lease) — stopping where it breaks; `--probe` also asks the wire and compares.
// Exit 0 when every address is announced (and, with --probe, by the expected MAC), 1 when the
// chain stops or the wire disagrees, 64 on bad usage.
#pragma once

#include <string>

namespace l2a::cli {

inline constexpr const char* kDefaultAgentNamespace = "l2announcer";  // where deploy/ puts the agents

struct ExplainOptions {
  std::string kubeconfig;
  std::string context;
  std::string ns = "default";        // the Service's namespace
  std::string agentNamespace;  // where node Leases live; empty: the chart's namespace, else found
  std::string target;                // Service name or IP address
  bool probe = false;
  std::string interface;             // for --probe; default: route to the address
  int timeoutMs = 1000;
  std::string output = "text";
  bool avoidExcludedNodes = true;  // as the agents' flags of the same names
  bool avoidCordonedNodes = true;
};

int runExplain(const ExplainOptions& options);

}  // namespace l2a::cli

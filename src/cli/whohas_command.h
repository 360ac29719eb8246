// `l2a whohas`: asks the wire who answers for an IP and prints every distinct owner.
// Exit status: 0 exactly one owner, 1 nobody answered, 2 several (a conflict), 64 bad usage.
// With --watch it asks every interval until SIGINT/SIGTERM (exit 0) and prints one timestamped
// line per change of owner, silence or conflict.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "wire/heartbeat.h"

namespace l2a::cli {

struct WhohasOptions {
  std::string interface;  // empty: the interface of the route to the address
  int timeoutMs = 1000;
  std::string output = "text";  // or "json"
  std::string address;
  bool heartbeats = false;  // also listen to the agents' heartbeats while probing (explain)
  bool watch = false;
  int intervalMs = 100;  // --watch: one round (ask, collect answers) per interval
};

int runWhohas(const WhohasOptions& options);

struct ProbeResult {
  std::string interface;
  std::string source;
  std::vector<std::string> owners;  // MACs, in the order they answered
  std::map<std::string, wire::Heartbeat> heartbeats;  // the last one heard from each node
};

// The probe itself (also used by `l2a explain --probe`). Errors: code "usage" for bad input
// (the message is the one line to print), "system" for sockets/netlink.
Result<ProbeResult> probeOwners(const WhohasOptions& options);

}  // namespace l2a::cli

// `l2a-lab probe`: the fail-over prober. From a client namespace it opens a TCP connection to
// each service address every interval and sends an ARP request / Neighbor Solicitation for it,
// until stopped (SIGINT/SIGTERM) or the duration ends, then prints one JSON document with every
// gap, unanswered period and overlap per address (see probe_timeline.h). Runs in the caller's
// thread.
#pragma once

#include <string>
#include <vector>

namespace l2a::lab {

struct ProbeOptions {
  std::string interface = "eth0";
  std::vector<std::string> targets;
  int port = 80;
  int intervalMs = 10;
  int timeoutMs = 200;   // a connect not answered by then counts as lost
  int durationMs = 0;    // 0: until SIGINT/SIGTERM
  std::string readyFile;  // touched once the first interval has been sent
};

// Exit code: 0 after printing the summary, 64 for bad options, 1 for system errors.
int runProbe(const ProbeOptions& options);

}  // namespace l2a::lab

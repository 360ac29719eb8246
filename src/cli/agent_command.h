// `l2a agent`: the node agent — decides which service addresses this node announces and drives
// the responder; runs until SIGTERM/SIGINT, then stops answering and gives its node Lease up so
// other nodes take over at once.
#pragma once

#include <string>
#include <vector>

#include "responder/responder.h"

namespace l2a::cli {

struct AgentCommandOptions {
  std::string nodeName;  // default $NODE_NAME
  responder::ReplyLimit replyLimit;
  std::string kubeconfig;
  std::string context;
  std::string ns = "l2announcer";  // where deploy/ installs l2a: its Leases live here
  std::vector<std::string> interfaces;  // regexes; empty = every Ethernet interface
  int leaseDurationMs = 4000;
  int renewDeadlineMs = 3000;
  int retryPeriodMs = 1000;
  double leaseRenewals = 50;  // node Lease renewals a second for the whole cluster at most (0: no bound)
  double apiQps = 50;
  int apiBurst = 100;
  std::string metricsBind = "0.0.0.0:9611";  // "" disables /metrics, /healthz, /readyz
  int announceRefreshMs = 0;  // gratuitous ARP / unsolicited NA again every so often; 0: never
  bool ownClassOnly = false;  // only Services with loadBalancerClass l2announcer.io/l2
  bool avoidExcludedNodes = true;  // no plan uses nodes labelled exclude-from-external-load-balancers
  bool avoidCordonedNodes = true;  // ... nor cordoned ones (spec.unschedulable)
  bool rebalance = false;          // take back from holders what rendezvous hashing gives us
  double rebalanceRate = 10;       // ... at most this many addresses a second
  double recordQps = 20;           // announcement records and Service conditions written a second
  // Nice value of the threads that watch, plan and write (informers, the reconcile loop, the
  // records' writer): on a busy node the packet thread (answers, heartbeats) and the node
  // Lease's renewals come first. 0: all threads alike.
  int controlNice = 10;
  // Real-time priority (SCHED_RR) of the packet thread; 0: normal scheduling. Needs
  // CAP_SYS_NICE; without it the agent warns once and runs as before.
  int packetRtPriority = 0;
  // Node liveness on the wire (wire/heartbeats.h): 0 turns heartbeats off.
  int heartbeatIntervalMs = 40;
  int heartbeatMisses = 5;
  int heartbeatHoldDownMs = 10000;
  std::string heartbeatKeyFile;  // HMAC keys, one per line, the first signs; re-read when it changes
};

int runAgent(const AgentCommandOptions& options);

}  // namespace l2a::cli

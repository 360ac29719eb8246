// `l2a operator`: LB-IPAM. Several replicas elect one active instance with a Lease; the active
// one runs the controller until SIGTERM (then releases the Lease) or until it loses the Lease
// (then exits 1 so its Deployment restarts it as a follower).
#pragma once

#include <string>

namespace l2a::cli {

struct OperatorOptions {
  std::string kubeconfig;
  std::string context;
  std::string ns = "l2announcer";  // where deploy/ installs l2a: its Leases live here
  std::string identity;  // default: hostname-pid
  int leaseDurationMs = 15000;
  int renewDeadlineMs = 10000;
  int retryPeriodMs = 2000;
  double apiQps = 50;  // client-side rate limit towards the API server
  int apiBurst = 100;
  std::string metricsBind = "0.0.0.0:9612";  // "" disables /metrics, /healthz, /readyz
  bool ownClassOnly = false;      // only Services with loadBalancerClass l2announcer.io/l2
  bool followCiliumPools = true;  // also allocate from cilium.io pools when that CRD is served
};

int runOperator(const OperatorOptions& options);

}  // namespace l2a::cli

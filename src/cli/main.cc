// l2a: the product binary. Parses the command line and hands over to one subcommand.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cli/agent_command.h"
#include "cli/announce_command.h"
#include "cli/exit_codes.h"
#include "cli/json_log_formatter.h"
#include "cli/explain_command.h"
#include "cli/operator_command.h"
#include "cli/drain_command.h"
#include "cli/migrate_command.h"
#include "cli/whohas_command.h"
#include "common/version.h"

int main(int argc, char** argv) {
  using namespace l2a::cli;
  CLI::App app{"l2a — L2 announcements (ARP/NDP) for bare-metal Kubernetes LoadBalancer IPs"};
  // A Lease records its duration in whole seconds (leaseDurationSeconds), and every other
  // contender judges it by that: 1500 ms would behave as 2 s. Refuse what cannot be honoured.
  const CLI::Validator wholeSeconds(
      [](std::string& value) -> std::string {
        return std::stol(value) % 1000 == 0 ? "" : "must be whole seconds (a Lease records its duration in seconds)";
      },
      "whole seconds");
  app.require_subcommand(1);
  app.fallthrough();  // global options (--log-level) may follow the subcommand
  app.set_help_all_flag("--help-all", "Print help for every subcommand");
  std::string logLevel = "info";
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  std::string logFormat = "text";
  app.add_option("--log-format", logFormat, "text (key=value) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));

  AnnounceOptions announce;
  auto* announceCmd = app.add_subcommand(
      "announce", "Answer ARP/NDP for IPs on the matching interfaces until SIGINT/SIGTERM");
  announceCmd
      ->add_option("--interface,-i", announce.interfaces,
                   "Interface regex (searched in the name, as Cilium does; ^eth0$ for exact); "
                   "repeatable")
      ->required()
      ->allow_extra_args(false);  // one regex per --interface; the rest are addresses
  announceCmd->add_option("addresses", announce.addresses, "IPv4/IPv6 addresses to claim")
      ->required();
  int garpCount = announce.announcements.count;
  int garpIntervalMs = static_cast<int>(announce.announcements.interval.count());
  int refreshMs = 0;
  announceCmd->add_option("--announce-count", garpCount,
                          "Gratuitous ARP / unsolicited NA bursts on claim")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  announceCmd->add_option("--announce-interval-ms", garpIntervalMs, "Time between bursts")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  announceCmd->add_option("--refresh-interval-ms", refreshMs,
                          "Re-announce this often after the bursts (0: never); switches age MACs")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400000));

  announceCmd->add_option("--max-replies-per-second", announce.replyLimit.perSecond,
                          "Answers per interface per second, beyond which a flood is dropped (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));

  WhohasOptions whohas;
  auto* whohasCmd = app.add_subcommand(
      "whohas", "Ask the LAN who answers for an IP. Exit: 0 one owner, 1 nobody, 2 conflict");
  whohasCmd->add_option("--interface,-i", whohas.interface,
                        "Interface to ask on (default: the one of the route to IP)");
  whohasCmd->add_option("--timeout", whohas.timeoutMs, "Milliseconds to collect answers")
      ->capture_default_str();
  whohasCmd->add_option("--output,-o", whohas.output, "text or json")->capture_default_str();
  whohasCmd->add_flag("--watch,-w", whohas.watch,
                      "Keep asking until SIGINT/SIGTERM; one timestamped line per change of owner, silence or conflict");
  whohasCmd->add_option("--interval", whohas.intervalMs, "With --watch: milliseconds per round")->capture_default_str();
  whohasCmd->add_option("address", whohas.address, "IPv4 or IPv6 address")->required();

  OperatorOptions op;
  auto* operatorCmd = app.add_subcommand("operator", "LB-IPAM: allocate LoadBalancer IPs from pools");
  operatorCmd->add_option("--kubeconfig", op.kubeconfig, "kubeconfig file (default: $KUBECONFIG, then in-cluster)");
  operatorCmd->add_option("--context", op.context, "kubeconfig context (default: current)");
  operatorCmd->add_option("--namespace,-n", op.ns, "Namespace of the election Lease")->capture_default_str();
  operatorCmd->add_option("--identity", op.identity, "Election identity (default: hostname-pid)");
  operatorCmd->add_flag("--own-class-only", op.ownClassOnly,
                        "Serve only Services with loadBalancerClass l2announcer.io/l2 (beside another LB implementation)");
  operatorCmd->add_option("--follow-cilium-pools", op.followCiliumPools,
                          "Also allocate from Cilium's pools when their CRD is served (false: leave them to Cilium)")
      ->capture_default_str();
  operatorCmd->add_option("--lease-duration-ms", op.leaseDurationMs, "Lease duration, whole seconds")->capture_default_str()
      ->check(CLI::Range(1000, 600000))->check(wholeSeconds);
  operatorCmd->add_option("--renew-deadline-ms", op.renewDeadlineMs, "Renew deadline")->capture_default_str()
      ->check(CLI::Range(500, 600000));
  operatorCmd->add_option("--retry-period-ms", op.retryPeriodMs, "Retry period")->capture_default_str()
      ->check(CLI::Range(100, 60000));
  operatorCmd->add_option("--kube-api-qps", op.apiQps, "Client-side rate limit (requests/s, 0: none)")
      ->capture_default_str()->check(CLI::Range(0.0, 100000.0));
  operatorCmd->add_option("--kube-api-burst", op.apiBurst, "Burst above the rate limit")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  operatorCmd->add_option("--metrics-bind", op.metricsBind, "HOST:PORT for /metrics, /healthz, /readyz (\"\": off)")
      ->capture_default_str();

  AgentCommandOptions ag;
  auto* agentCmd = app.add_subcommand("agent", "The node agent: announce the service IPs this node owns");
  agentCmd->add_option("--node-name", ag.nodeName, "This node's name (default: $NODE_NAME)");
  agentCmd->add_option("--kubeconfig", ag.kubeconfig, "kubeconfig file (default: $KUBECONFIG, then in-cluster)");
  agentCmd->add_option("--context", ag.context, "kubeconfig context (default: current)");
  agentCmd->add_option("--namespace,-n", ag.ns, "Namespace of the node Leases")->capture_default_str();
  agentCmd->add_option("--interface,-i", ag.interfaces, "Interfaces the agent may use (regex, repeatable; default: all)")
      ->allow_extra_args(false);
  agentCmd->add_option("--lease-duration-ms", ag.leaseDurationMs,
                       "Node lease duration, whole seconds: the fail-over bound without heartbeats")
      ->capture_default_str()->check(CLI::Range(1000, 600000))->check(wholeSeconds);
  agentCmd->add_option("--renew-deadline-ms", ag.renewDeadlineMs, "Renew deadline (then the agent freezes)")
      ->capture_default_str()->check(CLI::Range(500, 600000));
  agentCmd->add_option("--retry-period-ms", ag.retryPeriodMs, "Lease renew period")->capture_default_str()
      ->check(CLI::Range(100, 60000));
  agentCmd->add_option("--lease-renewals-per-second", ag.leaseRenewals,
                       "Node Lease renewals a second the whole cluster makes at most: every agent watches every node "
                       "Lease, so beyond this the three periods above grow with the nodes (0: no bound)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  agentCmd->add_option("--kube-api-qps", ag.apiQps, "Client-side rate limit (requests/s)")->capture_default_str();
  agentCmd->add_option("--kube-api-burst", ag.apiBurst, "Burst above the rate limit")->capture_default_str();
  agentCmd->add_option("--max-replies-per-second", ag.replyLimit.perSecond,
                       "Answers per interface per second, beyond which a flood is dropped (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  agentCmd->add_flag("--own-class-only", ag.ownClassOnly,
                     "Announce only Services with loadBalancerClass l2announcer.io/l2 (beside another LB implementation)");
  agentCmd->add_option("--avoid-excluded-nodes", ag.avoidExcludedNodes,
                       "Announce nothing from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers")
      ->capture_default_str();
  agentCmd->add_option("--avoid-cordoned-nodes", ag.avoidCordonedNodes,
                       "Announce nothing from cordoned nodes (spec.unschedulable)")
      ->capture_default_str();
  agentCmd->add_flag("--rebalance", ag.rebalance,
                     "Take back addresses rendezvous hashing gives this node from the node that kept them "
                     "(default: an address stays with its owner while that owner may announce it)");
  agentCmd->add_option("--rebalance-rate", ag.rebalanceRate, "With --rebalance, addresses taken back a second at most")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1e6));
  agentCmd->add_option("--record-qps", ag.recordQps,
                       "L2Announcement records and Service conditions written a second at most (burst: twice as many)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1e6));
  agentCmd->add_option("--control-nice", ag.controlNice,
                       "Nice value of the threads that watch, plan and write, so that on a busy node the packet thread "
                       "(ARP/NDP answers, heartbeats) and the node Lease come first (0: all threads alike)")
      ->capture_default_str()
      ->check(CLI::Range(0, 19));
  agentCmd->add_option("--packet-rt-priority", ag.packetRtPriority,
                       "Real-time priority (SCHED_RR, 1-99) of the packet thread (ARP/NDP answers, heartbeats), for nodes "
                       "whose CPUs run saturated; needs CAP_SYS_NICE (0: normal scheduling)")
      ->capture_default_str()
      ->check(CLI::Range(0, 99));
  agentCmd->add_option("--heartbeat-interval-ms", ag.heartbeatIntervalMs,
                       "Send heartbeats to the other agents on each interface this often (grows past 40 nodes; 0: off, Leases alone)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  agentCmd->add_option("--heartbeat-misses", ag.heartbeatMisses,
                       "A peer silent for this many of its intervals is wire-dead: its addresses move at once")
      ->capture_default_str()
      ->check(CLI::Range(2, 100));
  agentCmd->add_option("--heartbeat-hold-down-ms", ag.heartbeatHoldDownMs,
                       "A peer heard again after silence takes no address for this long (no move-back storm)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600000));
  agentCmd->add_option("--heartbeat-key-file", ag.heartbeatKeyFile,
                       "HMAC keys for heartbeats, one per line, the first signs (a mounted Secret; re-read when it changes)");
  agentCmd->add_option("--announce-refresh-ms", ag.announceRefreshMs,
                       "Announce every claimed address again this often, for switches that age MAC entries (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  agentCmd->add_option("--metrics-bind", ag.metricsBind, "HOST:PORT for /metrics, /healthz, /readyz (\"\": off)")
      ->capture_default_str();

  ExplainOptions ex;
  auto* explainCmd = app.add_subcommand("explain", "Who owns this Service's IPs, and if nobody, why");
  explainCmd->add_option("target", ex.target, "Service name (with -n) or an IP address")->required();
  explainCmd->add_option("--namespace,-n", ex.ns, "The Service's namespace")->capture_default_str();
  explainCmd->add_option("--agent-namespace", ex.agentNamespace,
                         "Namespace of the agents' node Leases (default: l2announcer, else wherever they are found)");
  explainCmd->add_option("--kubeconfig", ex.kubeconfig, "kubeconfig file (default: $KUBECONFIG, then in-cluster)");
  explainCmd->add_option("--context", ex.context, "kubeconfig context (default: current)");
  explainCmd->add_flag("--probe", ex.probe, "Also ask the wire who answers (as l2a whohas) and compare");
  explainCmd->add_option("--interface,-i", ex.interface, "Interface for --probe (default: route to the address)");
  explainCmd->add_option("--timeout", ex.timeoutMs, "Milliseconds --probe waits for answers")->capture_default_str();
  explainCmd->add_option("--output,-o", ex.output, "text or json")->capture_default_str();
  explainCmd->add_option("--avoid-excluded-nodes", ex.avoidExcludedNodes, "As the agents are run with")
      ->capture_default_str();
  explainCmd->add_option("--avoid-cordoned-nodes", ex.avoidCordonedNodes, "As the agents are run with")
      ->capture_default_str();

  MigrateOptions migrateOptions;
  auto* migrateCmd = app.add_subcommand(
      "migrate", "Print the l2announcer.io objects equivalent to Cilium's or MetalLB's manifests, with a line for what cannot be carried over");
  migrateCmd->add_option("-f,--filename", migrateOptions.files, "Manifest file (repeatable; - for standard input)")->required();

  DrainOptions drain;
  DrainOptions uncordon{.drain = false};
  auto* drainCmd = app.add_subcommand(
      "drain", "Move every address off NODE, make before break, until `l2a uncordon NODE` (label l2announcer.io/drain)");
  auto* uncordonCmd = app.add_subcommand("uncordon", "Let plans use NODE again after `l2a drain`");
  for (auto [cmd, options] : {std::pair{drainCmd, &drain}, std::pair{uncordonCmd, &uncordon}}) {
    cmd->add_option("node", options->node, "The Node's name")->required();
    cmd->add_option("--kubeconfig", options->kubeconfig, "kubeconfig file (default: $KUBECONFIG, then in-cluster)");
    cmd->add_option("--context", options->context, "kubeconfig context (default: current)");
  }

  app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    fmt::print(stderr, "l2a: error: {} (see l2a --help)\n", message);
    return kExitUsage;
  }

  auto logger = spdlog::stderr_logger_mt("l2a");
  if (logFormat == "json") {
    // Every message is key=value pairs; the JSON form keeps them as fields of one object.
    logger->set_formatter(std::make_unique<l2a::cli::JsonLogFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z level=%l %v");
  }
  logger->set_level(spdlog::level::from_str(logLevel));
  spdlog::set_default_logger(logger);

  if (app.got_subcommand("version")) {
    fmt::print("l2a {}\n", l2a::common::version());
    return kExitOk;
  }
  if (app.got_subcommand(announceCmd)) {
    announce.announcements.count = garpCount;
    announce.announcements.interval = std::chrono::milliseconds(garpIntervalMs);
    announce.announcements.refresh = std::chrono::milliseconds(refreshMs);
    return runAnnounce(announce);
  }
  if (app.got_subcommand(whohasCmd)) return runWhohas(whohas);
  if (app.got_subcommand(explainCmd)) return runExplain(ex);
  if (app.got_subcommand(drainCmd)) return runDrain(drain);
  if (app.got_subcommand(migrateCmd)) return runMigrate(migrateOptions);
  if (app.got_subcommand(uncordonCmd)) return runDrain(uncordon);
  if (app.got_subcommand(agentCmd)) {
    if (ag.renewDeadlineMs >= ag.leaseDurationMs || ag.retryPeriodMs >= ag.renewDeadlineMs) {
      fmt::print(stderr, "l2a: error: need retry period < renew deadline < lease duration\n");
      return kExitUsage;
    }
    return runAgent(ag);
  }
  if (app.got_subcommand(operatorCmd)) {
    if (op.renewDeadlineMs >= op.leaseDurationMs || op.retryPeriodMs >= op.renewDeadlineMs) {
      fmt::print(stderr, "l2a: error: need retry period < renew deadline < lease duration\n");
      return kExitUsage;
    }
    return runOperator(op);
  }
  return kExitUsage;
}

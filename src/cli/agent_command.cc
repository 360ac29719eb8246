#include "cli/agent_command.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <optional>
#include <mutex>
#include <cstdlib>
#include <thread>

#include "agent/agent.h"
#include "cli/discovery_wait.h"
#include "cli/exit_codes.h"
#include "cli/guarded_thread.h"
#include "cli/malloc_arenas.h"
#include "cli/metrics.h"
#include "cli/metrics_server.h"
#include "cli/responder_host.h"
#include "kube/client_config.h"
#include "kube/httplib_transport.h"
#include "net/netlink.h"

namespace l2a::cli {

namespace {

struct HeartbeatKeys {
  std::vector<std::string> keys;
  std::string error;  // of the last read that failed
};

// One key per line (blank lines and surrounding blanks ignored); the first signs.
Result<HeartbeatKeys, std::string> readHeartbeatKeys(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(fmt::format("heartbeat key file {}: {}", path, std::strerror(errno)));
  HeartbeatKeys out;
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    out.keys.push_back(line.substr(first, line.find_last_not_of(" \t\r") - first + 1));
  }
  if (out.keys.empty()) return fail(fmt::format("heartbeat key file {}: no key in it", path));
  return out;
}

}  // namespace

int runAgent(const AgentCommandOptions& options) {
  limitMallocArenas(kAgentMallocArenas);
  std::string node = options.nodeName;
  if (node.empty() && std::getenv("NODE_NAME") != nullptr) node = std::getenv("NODE_NAME");
  if (node.empty()) {
    fmt::print(stderr, "l2a: error: no node name: pass --node-name or set NODE_NAME\n");
    return kExitUsage;
  }
  auto selector = k8s::InterfaceSelector::create(options.interfaces);
  if (!selector) {
    fmt::print(stderr, "l2a: error: {}\n", selector.error().message);
    return kExitUsage;
  }
  auto config = kube::resolveClientConfig(options.kubeconfig, options.context, kube::processEnvironment());
  if (!config) {
    fmt::print(stderr, "l2a: error: {}\n", config.error().message);
    return kExitUsage;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto host = ResponderHost::create(
      *selector, responder::AnnouncementConfig{.refresh = std::chrono::milliseconds(options.announceRefreshMs)});
  if (!host) {
    fmt::print(stderr, "l2a: error: {}\n", host.error().message);
    return kExitSoftware;
  }
  (*host)->responder().setReplyLimit(options.replyLimit);
  kube::HttplibTransport transport(*config);
  kube::Client client(transport, kube::Client::Options{.qps = options.apiQps, .burst = options.apiBurst});
  // The agent's own writes (interfaces annotation, policy status, Events): no retries, short
  // timeouts, so the reconcile loop never waits on an unreachable API server.
  kube::HttplibTransport leaseTransport(*config, std::chrono::milliseconds(options.retryPeriodMs));
  kube::Client leaseClient(leaseTransport, kube::Client::Options{.qps = 0, .maxRetries = 0});
  // The node Lease has a connection and client of its own, never behind retries: each request
  // of a renewal is bounded by what is left until the renew deadline (client-go's bound), so a
  // node cut from the API server freezes in time while a slow one (answers in 2 s, a 3 s
  // deadline) keeps its Lease.
  kube::HttplibTransport nodeLeaseTransport(*config, std::chrono::milliseconds(options.retryPeriodMs));
  kube::Client nodeLeaseClient(nodeLeaseTransport, kube::Client::Options{.qps = 0, .maxRetries = 0});
  // Announcement records and conditions: a rate limit of their own (a mass take-over writes
  // thousands), never ahead of a renewal or an informer.
  kube::Client recordClient(leaseTransport, kube::Client::Options{.qps = options.recordQps,
                                                                  .burst = static_cast<int>(2 * options.recordQps) + 1,
                                                                  .maxRetries = 0});

  // The agent exists once discovery has answered; /metrics and /readyz serve from the start.
  std::unique_ptr<agent::Agent> agentHolder;
  std::atomic<agent::Agent*> running{nullptr};
  std::atomic<agent::AnnouncementStatus*> recordsRunning{nullptr};
  std::mutex blockedMutex;
  std::string blocked = "starting";
  std::atomic<bool> stop{false};
  std::atomic<bool> responderRunning{false};
  std::unique_ptr<MetricsServer> metrics;
  if (!options.metricsBind.empty()) {
    auto started = MetricsServer::start(
        options.metricsBind,
        [&] {
          common::MetricsWriter w;
          writeResponderMetrics(w, (*host)->responder());
          if (const wire::Heartbeats* heartbeats = (*host)->heartbeats()) writeHeartbeatMetrics(w, *heartbeats);
          if (agent::Agent* agent = running.load()) {
            agent::AgentStatus st = agent->status();
            w.gauge("l2a_announced_addresses", "Addresses this node announces", static_cast<double>(st.announced.size()));
            w.gauge("l2a_kept_addresses",
                    "Addresses this node announces that rendezvous hashing gives another node (stickiness; --rebalance moves them)",
                    static_cast<double>(st.kept));
            for (const char* cause : {"wire", "lease", "carrier", "drain", "plan"}) {
              auto n = st.takeoversByCause.find(cause);
              w.counter("l2a_takeovers_total", "Addresses this node started announcing, by why the previous owner lost them",
                        n == st.takeoversByCause.end() ? 0.0 : static_cast<double>(n->second), {{"cause", cause}});
            }
            w.counter("l2a_rebalanced_total", "Addresses taken back from a node that kept them (--rebalance)",
                      static_cast<double>(st.rebalanced));
            w.counter("l2a_takeovers_ahead_of_plan_total",
                      "Take-overs claimed on the owner's silence as the last plan's successors, before planning again",
                      static_cast<double>(st.claimedAhead));
            w.counter("l2a_takeovers_given_back_total", "Addresses released within 1 s of taking them (false alarms)",
                      static_cast<double>(st.givenBackSoon));
            w.counter("l2a_releases_total", "Addresses this node stopped announcing", static_cast<double>(st.releases));
            w.counter("l2a_reconciles_total", "Reconciles, by whether a plan was computed", static_cast<double>(st.reconciles - st.plansSkipped),
                      {{"plan", "computed"}});
            w.counter("l2a_reconciles_total", "Reconciles, by whether a plan was computed", static_cast<double>(st.plansSkipped),
                      {{"plan", "unchanged"}});
            w.counter("l2a_plans_total", "Computed plans, by whether every address was planned or only those whose inputs changed",
                      static_cast<double>(st.plansFull), {{"scope", "full"}});
            w.counter("l2a_plans_total", "Computed plans, by whether every address was planned or only those whose inputs changed",
                      static_cast<double>(st.reconciles - st.plansSkipped - st.plansFull), {{"scope", "changed"}});
            w.counter("l2a_addresses_planned_total", "Addresses planned, in full plans and in plans of what changed",
                      static_cast<double>(st.addressesPlanned));
            w.summary("l2a_plan_duration_seconds", "Computed plans: from the snapshot to the responder told",
                      st.planSeconds, st.reconciles - st.plansSkipped);
            w.gauge("l2a_last_takeover_addresses", "Addresses the last pass that took any over took",
                    static_cast<double>(st.lastTakeoverAddresses));
            w.gauge("l2a_last_takeover_seconds",
                    "The last pass that took addresses over: from the change that woke it to the responder answering for all",
                    st.lastTakeoverSeconds);
            w.counter("l2a_conflicts_total", "Others announcing our addresses, by outcome", static_cast<double>(st.conflictsLost),
                      {{"outcome", "released"}});
            w.counter("l2a_conflicts_total", "Others announcing our addresses, by outcome", static_cast<double>(st.conflictsWon),
                      {{"outcome", "reannounced"}});
            w.gauge("l2a_frozen", "1 while the node cannot renew its lease (takes nothing new)", st.frozen ? 1 : 0);
            w.gauge("l2a_wire_only", "1 while frozen but deciding by heartbeats among the nodes Lease-live before",
                    st.wireOnly ? 1 : 0);
            for (const auto& [outcome, n] : std::vector<std::pair<const char*, uint64_t>>{
                     {"created", st.events.created}, {"aggregated", st.events.aggregated},
                     {"rate_limited", st.events.rateLimited}, {"queue_full", st.events.queueFull},
                     {"failed", st.events.failed}}) {
              w.counter("l2a_events_total", "Service Events, by what became of them", static_cast<double>(n),
                        {{"outcome", outcome}});
            }
            w.gauge("l2a_malformed_objects", "Objects read but malformed: left out, or taken in part (see the log)",
                    static_cast<double>(st.malformedObjects));
            w.counter("l2a_lease_renew_failures_total", "Failed renewals of the node lease",
                      static_cast<double>(agent->nodeLease().renewFailures()));
            w.gauge("l2a_node_lease_held", "1 while this node holds its lease", agent->nodeLease().isLeader() ? 1 : 0);
            w.gauge("l2a_node_lease_duration_seconds",
                    "The node Lease's duration as last written (grows with the cluster: --lease-renewals-per-second)",
                    std::chrono::duration<double>(agent->nodeLease().timing().leaseDuration).count());
          }
          if (agent::AnnouncementStatus* records = recordsRunning.load()) {
            agent::AnnouncementStatusStats rs = records->stats();
            w.gauge("l2a_announcement_records_served", "1 while the L2Announcement CRD is served (records written)",
                    rs.served ? 1 : 0);
            for (const auto& [what, n] : std::vector<std::pair<const char*, uint64_t>>{
                     {"record_written", rs.recordsWritten}, {"record_deleted", rs.recordsDeleted},
                     {"condition_written", rs.conditionsWritten}, {"failed", rs.failures}}) {
              w.counter("l2a_announcement_status_writes_total",
                        "Writes of L2Announcement records and Service Announced conditions, by what they were",
                        static_cast<double>(n), {{"write", what}});
            }
            w.counter("l2a_announcement_record_comparisons_total",
                      "Times this node's L2Announcement records were compared with what it wants",
                      static_cast<double>(rs.comparisons));
          }
          writeClientMetrics(w, client);
          return w.text();
        },
        [&]() -> std::string {
          {
            std::lock_guard lock(blockedMutex);
            if (!blocked.empty()) return blocked;
          }
          agent::Agent* agent = running.load();
          if (agent == nullptr) return "starting";
          for (kube::Informer* i : agent->informers()) {
            if (!i->synced()) {
              std::string why = i->lastError();
              return why.empty() ? "waiting for the first list" : why;
            }
          }
          if (agent::AnnouncementStatus* records = recordsRunning.load(); records && !records->ready()) {
            return "reading the announcement records";
          }
          return responderRunning.load() ? "" : "the responder is not running";
        });
    if (!started) {
      fmt::print(stderr, "l2a: error: {}\n", started.error().message);
      return kExitUsage;
    }
    metrics = std::move(started).value();
  }
  std::optional<HeartbeatKeys> keys;
  if (!options.heartbeatKeyFile.empty()) {
    auto read = readHeartbeatKeys(options.heartbeatKeyFile);
    if (!read) {
      fmt::print(stderr, "l2a: error: {}\n", read.error());
      return kExitUsage;
    }
    keys = std::move(read).value();
    spdlog::info("event=heartbeat_keys_loaded keys={}", keys->keys.size());
  }
  auto policyKinds = waitForDiscovery<std::vector<agent::PolicyKind>>(
      [&] { return agent::discoverPolicyKinds(client); },
      [&](const std::string& why) {
        std::lock_guard lock(blockedMutex);
        blocked = why;
      },
      [&](std::chrono::milliseconds pause) {  // or until SIGINT/SIGTERM
        timespec wait{static_cast<time_t>(pause.count() / 1000), static_cast<long>(pause.count() % 1000) * 1000000};
        int signal = sigtimedwait(&signals, nullptr, &wait);
        if (signal > 0) spdlog::info("event=signal signal={}", strsignal(signal));
        return signal <= 0;
      });
  if (!policyKinds) return kExitOk;
  agentHolder = std::make_unique<agent::Agent>(
      client, leaseClient, (*host)->responder(),
      agent::AgentOptions{.nodeName = node,
                          .ns = options.ns,
                          .interfaces = *selector,
                          .leaseDuration = std::chrono::milliseconds(options.leaseDurationMs),
                          .renewDeadline = std::chrono::milliseconds(options.renewDeadlineMs),
                          .retryPeriod = std::chrono::milliseconds(options.retryPeriodMs),
                          .leaseRenewals = options.leaseRenewals,
                          .classes = {.ownClassOnly = options.ownClassOnly},
                          .avoid = {.excluded = options.avoidExcludedNodes, .cordoned = options.avoidCordonedNodes},
                          .rebalance = options.rebalance,
                          .rebalanceRate = options.rebalanceRate,
                          .nodeLeaseClient = &nodeLeaseClient,
                          .nodeLeaseRequestBudget =
                              [&nodeLeaseTransport](std::chrono::milliseconds left) {
                                nodeLeaseTransport.setRequestTimeout(left);
                              }},
      *policyKinds, [] {
        auto links = net::dumpLinks();
        return links ? *links : std::vector<net::LinkInfo>{};
      });
  agent::Agent& agent = *agentHolder;
  agent::AnnouncementStatus records(client, recordClient, node, [&agent] { agent.recordsChanged(); });
  agent.setRecords(&records);
  recordsRunning = &records;
  (*host)->onLinksChanged([&agent] { agent.linksChanged(); });
  (*host)->responder().setConflictHandler(
      [&agent](const packet::IpAddress& a, const packet::MacAddress& m, const std::string& port) {
        agent.conflictSeen(a, m, port);
      });
  if (options.heartbeatIntervalMs > 0) {
    auto& heartbeats = (*host)->enableHeartbeats(
        wire::HeartbeatOptions{.node = node,
                               .interval = std::chrono::milliseconds(options.heartbeatIntervalMs),
                               .liveness = {.misses = options.heartbeatMisses,
                                            .holdDown = std::chrono::milliseconds(options.heartbeatHoldDownMs)}},
        [&agent] { agent.wireChanged(); });
    if (keys) heartbeats.setKeys(keys->keys);
    agent.setWire(&heartbeats);
  }
  running = &agent;
  spdlog::info("event=agent_started node={} namespace={} lease_duration_ms={}", node, options.ns,
               options.leaseDurationMs);

  std::vector<std::thread> threads;
  threads.emplace_back(guarded("responder", [&] {
    realTime(options.packetRtPriority);
    responderRunning = true;
    (*host)->run();
    responderRunning = false;
  }));
  // Watching, planning and writing yield to the packet thread and the Lease on a busy node: a
  // plan of 10,000 addresses must not delay an answer or make a heartbeat late (peers would
  // take this node's addresses over).
  auto control = [nice = options.controlNice] { yieldCpu(nice); };
  for (kube::Informer* informer : agent.informers()) {
    threads.emplace_back(guarded("informer", [informer, &stop, control] {
      control();
      informer->run(stop);
    }));
  }
  kube::LeaseDriver driver;
  driver.add(agent.nodeLease());
  threads.emplace_back(guarded("node lease", [&] { driver.run(stop); }));
  std::thread reconciler(guarded("reconcile loop", [&] {
    control();
    agent.run(stop);
  }));
  std::atomic<bool> stopRecords{false};
  std::thread recordWriter(guarded("announcement records", [&] {
    control();
    records.run(stopRecords);
  }));
  if (keys && (*host)->heartbeats()) {
    // A Secret mounted as a volume changes in place: new keys are taken without a restart.
    threads.emplace_back(guarded("heartbeat keys", [&] {
      while (!stop.load()) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        auto fresh = readHeartbeatKeys(options.heartbeatKeyFile);
        if (!fresh) {
          if (keys->error != fresh.error()) spdlog::warn("event=heartbeat_keys_unreadable error=\"{}\" note=\"keeping the keys read before\"", fresh.error());
          keys->error = fresh.error();
          continue;
        }
        keys->error.clear();
        if (fresh->keys == keys->keys) continue;
        keys->keys = fresh->keys;
        (*host)->heartbeats()->setKeys(keys->keys);
        spdlog::info("event=heartbeat_keys_loaded keys={}", keys->keys.size());
      }
    }));
  }

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("event=signal signal={}", strsignal(signal));
  stop = true;
  agent.linksChanged();  // wakes the reconcile loop so it sees `stop` at once
  reconciler.join();
  agent.shutdown();  // release the node lease, answer until others announce, then stop
  stopRecords = true;
  recordWriter.join();
  (*host)->stop();
  for (auto& t : threads) t.join();
  metrics.reset();  // before the agent and the records it reads
  spdlog::info("event=stopped node={}", node);
  return kExitOk;
}

}  // namespace l2a::cli

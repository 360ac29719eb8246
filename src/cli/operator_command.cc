#include "cli/operator_command.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cli/discovery_wait.h"
#include "cli/exit_codes.h"
#include "cli/guarded_thread.h"
#include "cli/malloc_arenas.h"
#include "cli/metrics.h"
#include "cli/metrics_server.h"
#include "ipam/lb_ipam_controller.h"
#include "kube/client.h"
#include "kube/client_config.h"
#include "kube/httplib_transport.h"
#include "kube/leader_elector.h"

namespace l2a::cli {

int runOperator(const OperatorOptions& options) {
  limitMallocArenas(kOperatorMallocArenas);
  auto config = kube::resolveClientConfig(options.kubeconfig, options.context, kube::processEnvironment());
  if (!config) {
    fmt::print(stderr, "l2a: error: {}\n", config.error().message);
    return kExitUsage;
  }
  std::string identity = options.identity;
  if (identity.empty()) {
    char host[256] = "unknown";
    gethostname(host, sizeof host);
    identity = fmt::format("{}-{}", host, getpid());
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kube::HttplibTransport transport(*config);
  kube::Client client(transport, kube::Client::Options{.qps = options.apiQps, .burst = options.apiBurst});
  // The election Lease has its own connection and client, never retried behind the controller's
  // traffic: each request of a renewal is bounded by what is left until the renew deadline
  // (client-go's bound), so a renewal cannot outlast the lease while the controller keeps writing.
  kube::HttplibTransport leaseTransport(*config, std::chrono::milliseconds(options.retryPeriodMs));
  kube::Client leaseClient(leaseTransport, kube::Client::Options{.qps = 0, .maxRetries = 0});
  std::atomic<bool> stop{false};
  std::atomic<bool> leading{false};
  kube::LeaderElector elector(
      leaseClient,
      {.ns = options.ns, .name = "l2a-operator", .identity = identity,
       .leaseDuration = std::chrono::milliseconds(options.leaseDurationMs),
       .renewDeadline = std::chrono::milliseconds(options.renewDeadlineMs),
       .retryPeriod = std::chrono::milliseconds(options.retryPeriodMs),
       .requestBudget = [&leaseTransport](std::chrono::milliseconds left) { leaseTransport.setRequestTimeout(left); }},
      {.onStartedLeading = [&] {
         spdlog::info("event=leading lease={}/l2a-operator identity={}", options.ns, identity);
         leading = true;
       },
       .onStoppedLeading = [&] {
         // Writes stop at once (the controller asks before each); the term is wound down and
         // this replica campaigns again, in process.
         leading = false;
         spdlog::warn("event=lost_leadership identity={} note=\"stepping down, campaigning again\"", identity);
       },
       .onNewLeader = [&](const std::string& who) { spdlog::info("event=leader identity={}", who); }});
  std::thread signalWaiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("event=signal signal={}", strsignal(signal));
    stop = true;
  });
  signalWaiter.detach();
  std::unique_ptr<ipam::LbIpamController> controller;
  std::mutex controllerMutex;
  std::string blocked;  // why the active replica cannot start (discovery), under controllerMutex
  std::unique_ptr<MetricsServer> metrics;
  if (!options.metricsBind.empty()) {
    auto started = MetricsServer::start(
        options.metricsBind,
        [&] {
          common::MetricsWriter w;
          w.gauge("l2a_operator_leading", "1 on the active replica", leading ? 1 : 0);
          std::lock_guard lock(controllerMutex);
          if (controller) {
            auto st = controller->stats();
            w.counter("l2a_ipam_reconciles_total", "Service reconciles", static_cast<double>(st.reconciles));
            w.counter("l2a_ipam_status_writes_total", "Status writes", static_cast<double>(st.serviceStatusWrites), {{"kind", "service"}});
            w.counter("l2a_ipam_status_writes_total", "Status writes", static_cast<double>(st.poolStatusWrites), {{"kind", "pool"}});
            w.counter("l2a_ipam_events_total", "Events created or counted on an existing one", static_cast<double>(st.events));
            w.counter("l2a_ipam_events_dropped_total", "Events not sent: rate-limited per object, or over the queue",
                      static_cast<double>(st.eventsDropped));
            w.counter("l2a_ipam_write_failures_total", "Failed status or event writes", static_cast<double>(st.writeFailures));
            w.counter("l2a_ipam_writes_skipped_total", "Writes not made: leadership lost mid-pass",
                      static_cast<double>(st.writesSkipped));
            for (const auto& p : controller->poolStatuses()) {
              w.gauge("l2a_ipam_pool_ips", "Pool addresses by state", p.total, {{"pool", p.pool}, {"state", "total"}});
              w.gauge("l2a_ipam_pool_ips", "Pool addresses by state", p.used, {{"pool", p.pool}, {"state", "used"}});
              w.gauge("l2a_ipam_pool_ips", "Pool addresses by state", p.total - p.used, {{"pool", p.pool}, {"state", "available"}});
            }
          }
          writeClientMetrics(w, client);
          return w.text();
        },
        [&]() -> std::string {
          std::lock_guard lock(controllerMutex);
          if (!blocked.empty()) return blocked;
          if (!leading.load()) return "";  // a follower is ready to take over
          if (!controller) return "starting";
          if (controller->synced()) return "";
          for (kube::Informer* i : controller->informers()) {
            if (!i->synced() && !i->lastError().empty()) return i->lastError();
          }
          return "waiting for the first lists";
        });
    if (!started) {
      fmt::print(stderr, "l2a: error: {}\n", started.error().message);
      return kExitUsage;
    }
    metrics = std::move(started).value();
  }
  kube::LeaseDriver driver;
  driver.add(elector);
  std::thread electing(guarded("election", [&] { driver.run(stop); }));
  // Terms: lead while the Lease is ours, step down when it is not, campaign again — until a signal.
  while (!stop) {
    spdlog::info("event=waiting_for_lease lease={}/l2a-operator identity={}", options.ns, identity);
    while (!stop && !leading) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (stop) break;
    std::atomic<bool> termOver{false};
    auto endOfTerm = [&] { return stop.load() || !leading.load(); };
    auto kinds = waitForDiscovery<std::vector<ipam::PoolKind>>(
        [&] { return ipam::discoverPoolKinds(client, options.followCiliumPools); },
        [&](const std::string& why) {
          std::lock_guard lock(controllerMutex);
          blocked = why;
        },
        [&](std::chrono::milliseconds pause) {  // or until the term ends (a signal, or the Lease lost)
          for (auto until = std::chrono::steady_clock::now() + pause; std::chrono::steady_clock::now() < until && !endOfTerm();) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
          return !endOfTerm();
        });
    if (!kinds) continue;
    for (const auto& k : *kinds) spdlog::info("event=following_pools resource={}", k.resource.apiVersion() + "/" + k.resource.plural);
    {
      std::lock_guard lock(controllerMutex);
      controller = std::make_unique<ipam::LbIpamController>(client, *kinds, [&] { return leading.load(); },
                                                            k8s::LoadBalancerClasses{.ownClassOnly = options.ownClassOnly});
    }
    std::vector<std::thread> threads;
    for (kube::Informer* informer : controller->informers()) {
      threads.emplace_back(guarded("informer", [informer, &termOver] { informer->run(termOver); }));
    }
    threads.emplace_back(guarded("controller", [&] { controller->run(termOver); }));
    while (!endOfTerm()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    termOver = true;
    for (auto& t : threads) t.join();
    {
      std::lock_guard lock(controllerMutex);
      controller.reset();
    }
    if (!stop) spdlog::info("event=stepped_down identity={}", identity);
  }
  electing.join();
  if (auto released = elector.release(); !released) {
    spdlog::warn("event=release_failed error=\"{}\"", released.error().message);
  }
  spdlog::info("event=stopped identity={}", identity);
  return kExitOk;
}

}  // namespace l2a::cli

// l2a-lab: the lab binary (never linked into l2a). `l2a-lab apiserver` serves the lab API server,
// `l2a-lab proxy` the fault-injecting TLS proxy in front of kube-apiserver,
// `l2a-lab probe` is the fail-over prober of the benchmarks and the chaos suite, `l2a-lab
// hostile` the hostile-packet sender of the bad-input suite.
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <thread>
#include <unistd.h>

#include "lab/api_server.h"
#include "lab/fault_proxy.h"
#include "lab/hostile_command.h"
#include "lab/probe_command.h"

namespace {

// SIGINT/SIGTERM are taken by a waiting thread, never in a handler: it calls `stop` once.
void onTerminationSignal(std::function<void()> stop) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([stop = std::move(stop), signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    stop();
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"l2a-lab — the l2announcer lab: a stand-in Kubernetes API server"};
  app.require_subcommand(1);
  auto* apiserver = app.add_subcommand("apiserver", "Serve the Kubernetes REST API (plain HTTP)");
  std::string listen = "127.0.0.1:0";
  l2a::lab::ApiServerOptions options;
  int bookmarkMs = 60000;  // kube-apiserver: about once a minute
  apiserver->add_option("--listen", listen, "HOST:PORT (port 0: any free port)")->capture_default_str();
  apiserver->add_option("--data-dir", options.dataDirectory, "Keep every object here across restarts");
  apiserver->add_option("--history", options.historyLimit, "Watch events kept (older: 410 Gone)")
      ->capture_default_str();
  apiserver->add_option("--bookmark-interval-ms", bookmarkMs, "Bookmark period on idle watches")
      ->capture_default_str();
  apiserver->add_option("--workers", options.workers,
                        "Worker threads; each watch holds one (an agent about ten): 100 agents need about 1,100")
      ->capture_default_str()
      ->check(CLI::Range(size_t{8}, size_t{100000}));
  auto* probe = app.add_subcommand("probe", "Fail-over prober: TCP connect + ARP/NS per address every interval");
  l2a::lab::ProbeOptions probeOptions;
  probe->add_option("--interface", probeOptions.interface, "Client interface")->capture_default_str();
  probe->add_option("--target", probeOptions.targets, "Service address (repeat)")->required();
  probe->add_option("--port", probeOptions.port, "TCP port")->capture_default_str();
  probe->add_option("--interval-ms", probeOptions.intervalMs, "One request per address per interval")
      ->capture_default_str();
  probe->add_option("--timeout-ms", probeOptions.timeoutMs, "A connect not answered by then is lost")
      ->capture_default_str();
  probe->add_option("--duration-ms", probeOptions.durationMs, "Stop after this long (0: at SIGINT/SIGTERM)")
      ->capture_default_str();
  probe->add_option("--ready-file", probeOptions.readyFile, "Written once probing has started");
  auto* hostile = app.add_subcommand("hostile", "Send malformed and spoofed ARP/NDP (or a flood) and report answers");
  l2a::lab::HostileOptions hostileOptions;
  hostile->add_option("--interface", hostileOptions.interface, "Interface to send on")->capture_default_str();
  hostile->add_option("--target4", hostileOptions.target4, "IPv4 address the responder claims")->required();
  hostile->add_option("--target6", hostileOptions.target6, "IPv6 address the responder claims")->required();
  hostile->add_option("--listen-ms", hostileOptions.listenMs, "Wait this long for answers to each case")
      ->capture_default_str();
  hostile->add_option("--flood-ms", hostileOptions.floodMs, "Flood valid requests this long instead")
      ->capture_default_str();
  auto* proxy = app.add_subcommand("proxy", "TLS proxy in front of kube-apiserver that injects faults (/admin)");
  l2a::lab::FaultProxyOptions proxyOptions;
  std::string proxyListen = "127.0.0.1:0", proxyUpstream = "127.0.0.1:6443", proxyAdmin = "127.0.0.1:0";
  proxy->add_option("--listen", proxyListen, "HOST:PORT the agents and the operator connect to")->capture_default_str();
  proxy->add_option("--upstream", proxyUpstream, "HOST:PORT of kube-apiserver")->capture_default_str();
  proxy->add_option("--cert", proxyOptions.certificateFile, "Serving certificate (PEM)")->required();
  proxy->add_option("--key", proxyOptions.keyFile, "Its key (PEM)")->required();
  proxy->add_option("--ca", proxyOptions.caFile, "CA that signed the upstream's certificate")->required();
  proxy->add_option("--admin", proxyAdmin, "HOST:PORT of the plain-HTTP /admin endpoints")->capture_default_str();
  // The lab cluster: network namespaces, processes and nftables, driven by the repository's
  // scripts/lab-cluster.sh (see docs/lab.md).
  std::vector<std::string> clusterArgs;
  for (const char* verb : {"up", "down", "status"}) {
    auto* sub = app.add_subcommand(verb, std::string("Lab cluster: ") + verb);
    sub->allow_extras();
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "l2a-lab: error: {}\n", e.what());
    return 64;
  }
  if (app.got_subcommand(probe)) return l2a::lab::runProbe(probeOptions);
  if (app.got_subcommand(hostile)) return l2a::lab::runHostile(hostileOptions);
  if (app.got_subcommand(proxy)) {
    auto split = [](const std::string& text, std::string& host, int& port) {
      auto colon = text.rfind(':');
      if (colon == std::string::npos) return false;
      host = text.substr(0, colon);
      port = std::atoi(text.substr(colon + 1).c_str());
      return true;
    };
    if (!split(proxyListen, proxyOptions.listenHost, proxyOptions.listenPort) ||
        !split(proxyUpstream, proxyOptions.upstreamHost, proxyOptions.upstreamPort) ||
        !split(proxyAdmin, proxyOptions.adminHost, proxyOptions.adminPort)) {
      fmt::print(stderr, "l2a-lab: error: --listen, --upstream and --admin want HOST:PORT\n");
      return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    l2a::lab::FaultProxy server(proxyOptions);
    auto started = server.start();
    if (!started) {
      fmt::print(stderr, "l2a-lab: error: {}\n", started.error().message);
      return 1;
    }
    onTerminationSignal([&server] { server.shutdown(); });
    fmt::print("l2a-lab proxy: serving {}\n", *started);
    std::fflush(stdout);
    server.serve();
    return 0;
  }
  for (const char* verb : {"up", "down", "status"}) {
    if (!app.got_subcommand(verb)) continue;
    std::vector<std::string> args{"bash", L2A_SOURCE_DIR "/scripts/lab-cluster.sh", verb};
    for (const auto& extra : app.get_subcommand(verb)->remaining()) args.push_back(extra);
    std::vector<char*> argv2;
    for (auto& a : args) argv2.push_back(a.data());
    argv2.push_back(nullptr);
    setenv("L2A_BUILD", L2A_BUILD_DIR, 0);
    execvp("bash", argv2.data());
    fmt::print(stderr, "l2a-lab: error: cannot run bash\n");
    return 1;
  }
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    fmt::print(stderr, "l2a-lab: error: --listen wants HOST:PORT, got '{}'\n", listen);
    return 64;
  }
  options.host = listen.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[') options.host = options.host.substr(1, options.host.size() - 2);
  options.port = std::atoi(listen.substr(colon + 1).c_str());
  options.bookmarkInterval = std::chrono::milliseconds(bookmarkMs);

  signal(SIGPIPE, SIG_IGN);
  l2a::lab::ApiServer server(options);
  auto url = server.start();
  if (!url) {
    fmt::print(stderr, "l2a-lab: error: {}\n", url.error().message);
    return 1;
  }
  onTerminationSignal([&server] { server.shutdown(); });
  fmt::print("l2a-lab apiserver: serving {}\n", *url);
  std::fflush(stdout);
  server.serve();
  return 0;
}

// l2a-bench-ipam: drives LB-IPAM benchmarks against a lab API server (bench/ipam.sh runs it).
//   populate URL N   one IPv4 /16 and one IPv6 /112 pool, then N dual-stack Services
//   wait URL N       until N Services show addresses; prints seconds and list requests made
//   snapshot URL     prints "ns/name addresses" for every Service, sorted
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "kube/client.h"
#include "kube/httplib_transport.h"

using namespace l2a::kube;

int main(int argc, char** argv) {
  CLI::App app{"LB-IPAM benchmark driver"};
  app.require_subcommand(1);
  std::string url;
  int n = 10000;
  auto* populate = app.add_subcommand("populate");
  populate->add_option("url", url)->required();
  populate->add_option("count", n)->required();
  auto* wait = app.add_subcommand("wait");
  wait->add_option("url", url)->required();
  wait->add_option("count", n)->required();
  auto* snapshot = app.add_subcommand("snapshot");
  snapshot->add_option("url", url)->required();
  CLI11_PARSE(app, argc, argv);
  HttplibTransport transport(ClientConfig{.server = url});
  Client client(transport, Client::Options{.qps = 0});
  Resource pools{"l2announcer.io", "v1alpha1", "loadbalancerippools", false, "LoadBalancerIPPool"};

  if (*populate) {
    Json pool{{"metadata", {{"name", "bench"}}},
              {"spec", {{"blocks", {{{"cidr", "198.18.0.0/16"}}, {{"cidr", "2001:db8:bb::/112"}}}}}}};
    if (!client.create(pools, "", pool)) return 1;
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int w = 0; w < 2; ++w) {
      workers.emplace_back([&, w] {
        HttplibTransport t(ClientConfig{.server = url});
        Client c(t, Client::Options{.qps = 0});
        for (int i = w; i < n; i += 2) {
          Json s{{"metadata", {{"name", "svc-" + std::to_string(i)}}},
                 {"spec", {{"type", "LoadBalancer"}, {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}}};
          if (!c.create(resources::kServices, "default", s)) ++failures;
        }
      });
    }
    for (auto& t : workers) t.join();
    return failures.load() == 0 ? 0 : 1;
  }
  if (*wait) {
    auto start = std::chrono::steady_clock::now();
    int lists = 0;
    for (;;) {
      auto all = client.listAll(resources::kServices, "default", {.limit = 5000});
      lists += all ? static_cast<int>((*all)["items"].size() / 5000 + 1) : 1;
      int done = 0;
      if (all) {
        for (const auto& s : (*all)["items"]) {
          if (s.value("/status/loadBalancer/ingress"_json_pointer, Json::array()).size() == 2) ++done;
        }
      }
      if (done >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::printf("seconds=%.2f lists=%d\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), lists);
    return 0;
  }
  auto all = client.listAll(resources::kServices, "", {.limit = 5000});
  if (!all) return 1;
  std::vector<std::string> lines;
  for (const auto& s : (*all)["items"]) {
    std::string line = keyOf(s);
    for (const auto& i : s.value("/status/loadBalancer/ingress"_json_pointer, Json::array())) {
      line += " " + i.value("ip", "");
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  return 0;
}

// l2a-bench-kube: the Kubernetes client and the lab API server under load, in one run.
//   1. the lab server's request rate: N creates, then GETs, from 2 client threads
//   2. an informer started cold over those Services: time until its cache holds all of them,
//      client CPU time and memory growth
//   3. a stream of updates at a fixed rate through one watch: events per second the informer
//      keeps up with, the lag from write to handler (p50/p99), and its thread's CPU per event
// Usage: l2a-bench-kube SERVER_URL [--services N] [--rate R] [--seconds S]
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "kube/httplib_transport.h"
#include "kube/informer.h"

using namespace l2a::kube;
using Clock = std::chrono::steady_clock;

namespace {

long rssKb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

// CPU time of one thread (the informer's: receiving, decoding, caching, handing on).
double threadCpuSeconds(std::thread& thread) {
  clockid_t clock;
  timespec ts{};
  if (pthread_getcpuclockid(thread.native_handle(), &clock) != 0 || clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

Json service(int i) {
  return {{"metadata", {{"name", "svc-" + std::to_string(i)}, {"labels", {{"bench", "yes"}}}}},
          {"spec", {{"type", "LoadBalancer"}, {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kubernetes client and lab API server benchmark"};
  std::string url;
  int services = 10000, rate = 1000, secondsToStream = 5;
  app.add_option("url", url)->required();
  app.add_option("--services", services);
  app.add_option("--rate", rate, "updates per second through the watch");
  app.add_option("--seconds", secondsToStream);
  CLI11_PARSE(app, argc, argv);
  HttplibTransport transport(ClientConfig{.server = url});
  Client::Options unlimited{.qps = 0};

  // 1. Creates and GETs from two threads.
  auto createStart = Clock::now();
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&, w] {
      HttplibTransport t(ClientConfig{.server = url});
      Client c(t, unlimited);
      for (int i = w; i < services; i += 2) {
        if (!c.create(resources::kServices, "default", service(i))) ++failures;
      }
    });
  }
  for (auto& t : workers) t.join();
  double createSeconds = seconds(Clock::now() - createStart);
  workers.clear();
  int gets = std::min(services, 20000);
  auto getStart = Clock::now();
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&, w] {
      HttplibTransport t(ClientConfig{.server = url});
      Client c(t, unlimited);
      for (int i = w; i < gets; i += 2) {
        if (!c.get(resources::kServices, "default", "svc-" + std::to_string(i % services))) ++failures;
      }
    });
  }
  for (auto& t : workers) t.join();
  double getSeconds = seconds(Clock::now() - getStart);

  // 2. Informer cold start.
  Client client(transport, unlimited);
  std::mutex mu;
  std::vector<double> lagsMs;
  std::atomic<long> updates{0};
  InformerHandlers handlers{
      .onUpdate = [&](const Json&, const Json& n) {
        auto sent = n["metadata"]["annotations"].value("bench/sent-ns", std::string("0"));
        double lag = (Clock::now().time_since_epoch().count() - std::stoll(sent)) / 1e6;
        std::lock_guard l(mu);
        lagsMs.push_back(lag);
        ++updates;
      }};
  Informer informer(client, resources::kServices, "default", handlers, {.pageSize = 500});
  long rssBefore = rssKb();
  double cpuBefore = cpuSeconds();
  std::atomic<bool> stop{false};
  auto syncStart = Clock::now();
  std::thread runner([&] { informer.run(stop); });
  while (informer.size() < static_cast<size_t>(services)) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  double syncSeconds = seconds(Clock::now() - syncStart);
  double syncCpu = cpuSeconds() - cpuBefore;
  long rssAfter = rssKb();

  // 3. Updates at a fixed rate, each stamped with its send time.
  Client writer(transport, unlimited);
  long receivedBefore = updates.load();
  double informerCpuBefore = threadCpuSeconds(runner);
  auto streamStart = Clock::now();
  long sent = 0;
  for (; Clock::now() < streamStart + std::chrono::seconds(secondsToStream); ++sent) {
    auto due = streamStart + std::chrono::nanoseconds(1000000000LL * sent / rate);
    std::this_thread::sleep_until(due);
    Json patch{{"metadata", {{"annotations", {{"bench/sent-ns", std::to_string(Clock::now().time_since_epoch().count())}}}}}};
    if (!writer.patch(resources::kServices, "default", "svc-" + std::to_string(sent % services), patch)) ++failures;
  }
  double writeSeconds = seconds(Clock::now() - streamStart);
  auto waitEnd = Clock::now() + std::chrono::seconds(10);
  while (updates.load() < sent && Clock::now() < waitEnd) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  double streamSeconds = seconds(Clock::now() - streamStart);
  double informerCpu = threadCpuSeconds(runner) - informerCpuBefore;
  long received = updates.load() - receivedBefore;
  stop = true;
  runner.join();
  std::sort(lagsMs.begin(), lagsMs.end());
  auto pct = [&](double p) { return lagsMs.empty() ? 0 : lagsMs[std::min(lagsMs.size() - 1, size_t(p * lagsMs.size()))]; };

  std::printf("| measurement | value |\n|---|---:|\n");
  std::printf("| lab server: creates/s (2 client threads) | %.0f |\n", services / createSeconds);
  std::printf("| lab server: GETs/s (2 client threads) | %.0f |\n", gets / getSeconds);
  std::printf("| informer cold start: %d Services cached in | %.2f s |\n", services, syncSeconds);
  std::printf("| informer cold start: client CPU | %.2f s |\n", syncCpu);
  std::printf("| informer cold start: client memory growth | %.1f MiB |\n", (rssAfter - rssBefore) / 1024.0);
  std::printf("| watch: updates written | %ld in %.2f s (%.0f/s) |\n", sent, writeSeconds, sent / writeSeconds);
  std::printf("| watch: events received | %ld (%.0f/s) |\n", updates.load(), updates.load() / streamSeconds);
  std::printf("| watch: write-to-handler lag p50 / p99 | %.2f / %.2f ms |\n", pct(0.5), pct(0.99));
  std::printf("| watch: informer thread CPU per event (receive, decode, cache, hand on) | %.1f µs |\n",
              received > 0 ? informerCpu / static_cast<double>(received) * 1e6 : 0.0);
  std::printf("| failed requests | %d |\n", failures.load());
  return failures.load() == 0 && updates.load() >= sent ? 0 : 1;
}

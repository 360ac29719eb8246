// l2a-bench-neighbor: a load generator and stopwatch for ARP/NDP answers, run from a client
// namespace against whoever answers for an address (l2a or the kernel).
//   latency: one request at a time, N round trips, prints p50/p99/max in microseconds.
//   rate:    keeps a window of requests in flight for S seconds, prints answers per second.
// Output: one line of key=value pairs for bench/run.sh.
#include <net/if.h>
#include <poll.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <vector>

#include "net/neighbor_probe.h"
#include "net/netlink.h"
#include "net/packet_socket.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  CLI::App app{"ARP/NDP answer latency and rate"};
  std::string interface = "eth0", mode = "latency", targetText, sourceText;
  int count = 20000, seconds = 5, window = 64;
  app.add_option("--interface", interface);
  app.add_option("--mode", mode)->check(CLI::IsMember({"latency", "rate"}));
  app.add_option("--target", targetText)->required();
  app.add_option("--source", sourceText, "address to ask from")->required();
  app.add_option("--count", count);
  app.add_option("--seconds", seconds);
  app.add_option("--window", window);
  CLI11_PARSE(app, argc, argv);

  auto target = l2a::packet::parseIpAddress(targetText);
  auto source = l2a::packet::parseIpAddress(sourceText);
  int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
  if (!target || !source || ifindex == 0) {
    std::fprintf(stderr, "bad --target, --source or --interface\n");
    return 64;
  }
  l2a::packet::MacAddress mac;
  auto links = l2a::net::dumpLinks();
  if (!links) {
    std::fprintf(stderr, "%s\n", links.error().message.c_str());
    return 1;
  }
  for (const auto& link : *links) {
    if (link.ifindex == ifindex) mac = link.mac;
  }
  auto sock = l2a::net::PacketSocket::open(ifindex, l2a::net::FrameFilter::kReplies);
  if (!sock) {
    std::fprintf(stderr, "%s\n", sock.error().message.c_str());
    return 1;
  }
  l2a::net::NeighborProbe probe(mac, *source, *target);
  l2a::packet::Bytes request = probe.request();
  std::array<std::byte, 2048> buffer;
  auto drainAnswers = [&]() {
    int answers = 0;
    while (auto n = sock->receive(buffer)) {
      if (probe.answerFrom(std::span<const std::byte>(buffer.data(), *n))) ++answers;
    }
    return answers;
  };
  auto waitReadable = [&](int ms) {
    pollfd pfd{sock->fd(), POLLIN, 0};
    return poll(&pfd, 1, ms) > 0;
  };

  if (mode == "latency") {
    std::vector<double> micros;
    int lost = 0;
    for (int i = 0; i < count; ++i) {
      drainAnswers();
      auto start = Clock::now();
      sock->send(request);
      bool answered = false;
      while (!answered && Clock::now() - start < std::chrono::milliseconds(100)) {
        if (!waitReadable(100)) break;
        answered = drainAnswers() > 0;
      }
      if (!answered) {
        ++lost;
        continue;
      }
      micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    std::sort(micros.begin(), micros.end());
    auto pct = [&](double p) {
      return micros.empty() ? 0.0 : micros[std::min(micros.size() - 1, size_t(p * micros.size()))];
    };
    std::printf("mode=latency target=%s samples=%zu lost=%d p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
                targetText.c_str(), micros.size(), lost, pct(0.5), pct(0.99),
                micros.empty() ? 0.0 : micros.back());
    return 0;
  }

  long sent = 0, answered = 0;
  int inFlight = 0;
  auto start = Clock::now();
  auto end = start + std::chrono::seconds(seconds);
  auto lastProgress = start;
  while (Clock::now() < end) {
    while (inFlight < window) {
      if (!sock->send(request)) break;
      ++sent;
      ++inFlight;
    }
    if (waitReadable(10)) {
      int got = drainAnswers();
      answered += got;
      inFlight = std::max(0, inFlight - got);
      if (got > 0) lastProgress = Clock::now();
    }
    // Answers that never come (dropped under load) must not shrink the window for ever.
    if (Clock::now() - lastProgress > std::chrono::milliseconds(20)) {
      inFlight = 0;
      lastProgress = Clock::now();
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("mode=rate target=%s sent=%ld answered=%ld seconds=%.2f answers_per_s=%.0f\n",
              targetText.c_str(), sent, answered, elapsed, answered / elapsed);
  return 0;
}

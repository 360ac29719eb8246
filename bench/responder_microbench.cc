// Google Benchmark of the responder's pure receive path (parse, validate, look up, build the
// answer) with an in-memory FrameIo, beside a frame that is not claimed; and of what a heartbeat
// costs its observer (wire::Liveness::heard) with 10 to 1,000 peers on the segment, beside the
// same with one peer. No sockets.
#include <benchmark/benchmark.h>

#include "responder/responder.h"
#include "wire/liveness.h"
#include "support/fake_frame_io.h"
#include "support/hex.h"
#include "support/packet_vectors.h"

namespace {

using namespace l2a;

class NullIo : public responder::FrameIo {
 public:
  bool send(int, packet::ByteSpan frame) override {
    benchmark::DoNotOptimize(frame.data());
    return true;
  }
  void joinMulticast(int, const packet::MacAddress&) override {}
  void leaveMulticast(int, const packet::MacAddress&) override {}
  void filterClaims(int, std::span<const packet::IpAddress>) override {}
};

void run(benchmark::State& state, const char* hex, int claims) {
  NullIo io;
  responder::Responder r(io, responder::AnnouncementConfig{.count = 0});
  r.setPorts({{2, "eth0", *packet::MacAddress::parse("02:00:00:00:00:11")}});
  r.claim(*packet::parseIpAddress("198.18.0.11"));
  r.claim(*packet::parseIpAddress("2001:db8::11"));
  for (int i = 0; i < claims; ++i) {  // a big table: lookups stay O(1)
    r.claim(packet::Ipv4Address{{198, 19, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}});
  }
  packet::Bytes frame = testing::fromHex(hex);
  for (auto _ : state) r.handleFrame(2, frame);
  state.SetItemsProcessed(state.iterations());
}

void BM_ArpRequestClaimed(benchmark::State& s) { run(s, testing::kKernelArpRequest, s.range(0)); }
void BM_NeighborSolicitationClaimed(benchmark::State& s) {
  run(s, testing::kKernelNeighborSolicitation, s.range(0));
}
void BM_NeighborSolicitationNotClaimed(benchmark::State& s) {
  run(s, testing::kNeighborSolicitationFor200, s.range(0));
}

// One peer's heartbeat among `peers` others heard on the same port, each in its window. The cost
// per frame must not grow with the segment: at 1,000 nodes an observer hears 1,000 frames/s.
void BM_LivenessHeard(benchmark::State& state) {
  auto start = wire::Clock::now();
  wire::Liveness liveness("self", wire::LivenessOptions{}, start);
  int peers = static_cast<int>(state.range(0));
  std::vector<wire::Heartbeat> frames(static_cast<size_t>(peers));
  for (int i = 0; i < peers; ++i) {
    auto& h = frames[static_cast<size_t>(i)];
    h.node = "node-" + std::to_string(i);
    h.port = "eth0";
    h.incarnation = 1;
    h.intervalMs = static_cast<uint16_t>(std::max(40, peers));
    liveness.heard(h, "eth0", start);
  }
  auto now = start;
  size_t next = 0;
  for (auto _ : state) {
    auto& h = frames[next];
    ++h.sequence;
    now += std::chrono::microseconds(1000000 / std::max(peers, 25));
    benchmark::DoNotOptimize(liveness.heard(h, "eth0", now));
    next = (next + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_LivenessHeard)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_ArpRequestClaimed)->Arg(0)->Arg(10000);
BENCHMARK(BM_NeighborSolicitationClaimed)->Arg(0)->Arg(10000);
BENCHMARK(BM_NeighborSolicitationNotClaimed)->Arg(0);

}  // namespace

BENCHMARK_MAIN();

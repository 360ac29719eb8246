// The whole receive path: any frame on a port with claims either gets one well-formed answer
// or is counted as a drop, never both, never a crash.
#include <vector>

#include "common/check.h"
#include "fuzz/fuzz_input.h"
#include "packet/arp.h"
#include "packet/ndp.h"
#include "responder/responder.h"

namespace {

class CollectingIo : public l2a::responder::FrameIo {
 public:
  bool send(int, l2a::packet::ByteSpan frame) override {
    sent.emplace_back(frame.begin(), frame.end());
    return true;
  }
  void joinMulticast(int, const l2a::packet::MacAddress&) override {}
  void leaveMulticast(int, const l2a::packet::MacAddress&) override {}
  void filterClaims(int, std::span<const l2a::packet::IpAddress>) override {}
  std::vector<l2a::packet::Bytes> sent;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace l2a;
  CollectingIo io;
  responder::Responder r(io, responder::AnnouncementConfig{.count = 0});
  r.setPorts({{2, "eth0", packet::MacAddress{{0x02, 0, 0, 0, 0, 0x11}}}});
  r.claim(*packet::parseIpAddress("198.18.0.11"));
  r.claim(*packet::parseIpAddress("198.18.0.200"));
  r.claim(*packet::parseIpAddress("2001:db8::11"));
  r.claim(*packet::parseIpAddress("2001:db8::200"));
  r.handleFrame(2, fuzz::asBytes(data, size));
  auto c = r.counters()["eth0"];
  uint64_t drops = 0;
  for (uint64_t d : c.drops) drops += d;
  L2A_CHECK(c.requests() == 1);
  L2A_CHECK(drops + c.replies() == 1);
  L2A_CHECK(io.sent.size() == c.replies());
  for (const auto& frame : io.sent) {
    auto eth = packet::parseEthernet(frame);
    L2A_CHECK(eth.ok());
    if (eth->header.etherType == packet::kEtherTypeArp) {
      L2A_CHECK(packet::parseArp(eth->payload).ok());
    } else {
      L2A_CHECK(packet::parseNeighborAdvertisement(eth->payload).ok());
    }
  }
  return 0;
}

// ARP parsing: a parsed request's reply parses back as a reply for the requested address.
#include "common/check.h"
#include "fuzz/fuzz_input.h"
#include "packet/arp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace l2a::packet;
  auto arp = parseArp(l2a::fuzz::asBytes(data, size));
  if (!arp) return 0;
  MacAddress ours{{0x02, 0, 0, 0, 0, 0x11}};
  Bytes reply = buildArpReply(ours, EthernetHeader{.source = arp->senderMac}, *arp);
  auto eth = parseEthernet(reply);
  L2A_CHECK(eth.ok());
  auto back = parseArp(eth->payload);
  L2A_CHECK(back.ok());
  L2A_CHECK(back->operation == kArpReply && back->senderIp == arp->targetIp);
  return 0;
}

// NS parsing and validation: whatever passes yields an answer that passes NA validation.
#include "common/check.h"
#include "fuzz/fuzz_input.h"
#include "packet/ndp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace l2a::packet;
  auto ns = parseNeighborSolicitation(l2a::fuzz::asBytes(data, size));
  if (!ns) return 0;
  L2A_CHECK(!ns->target.isMulticast());
  MacAddress ours{{0x02, 0, 0, 0, 0, 0x11}};
  Bytes answer = buildSolicitedAdvertisement(ours, EthernetHeader{}, *ns);
  auto eth = parseEthernet(answer);
  L2A_CHECK(eth.ok());
  auto na = parseNeighborAdvertisement(eth->payload);
  L2A_CHECK(na.ok());
  L2A_CHECK(na->target == ns->target && na->override);
  return 0;
}

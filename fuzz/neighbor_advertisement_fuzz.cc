// NA parsing and validation (what `l2a whohas` reads from the wire).
#include "common/check.h"
#include "fuzz/fuzz_input.h"
#include "packet/ndp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace l2a::packet;
  auto na = parseNeighborAdvertisement(l2a::fuzz::asBytes(data, size));
  if (!na) return 0;
  L2A_CHECK(!na->target.isMulticast());
  L2A_CHECK(!(na->destination.isMulticast() && na->solicited));
  return 0;
}

// Ethernet parsing: never reads out of bounds; a parsed header rebuilds to the same bytes.
#include "common/check.h"
#include "fuzz/fuzz_input.h"
#include "packet/ethernet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace l2a::packet;
  auto input = l2a::fuzz::asBytes(data, size);
  auto frame = parseEthernet(input);
  if (!frame) return 0;
  Bytes header;
  ByteWriter out(header);
  writeEthernetHeader(out, frame->header);
  L2A_CHECK(header.size() + frame->payload.size() == size);
  L2A_CHECK(std::equal(header.begin(), header.end(), input.begin()));
  return 0;
}

// Heartbeat parsing, unsigned and with keys: never a crash; a parsed frame built again (with
// the same key) parses to the same heartbeat; a frame accepted with a key verifies.
#include "common/check.h"
#include "fuzz/fuzz_input.h"
#include "wire/heartbeat.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace l2a;
  auto frame = fuzz::asBytes(data, size);
  (void)wire::parseHeartbeat(frame, {"key-1", "key-2"});
  auto heartbeat = wire::parseHeartbeat(frame);
  if (!heartbeat) return 0;
  packet::MacAddress source{{0x02, 0, 0, 0, 0, 0x11}};
  for (const std::string key : {"", "key-1"}) {
    packet::Bytes again = wire::buildHeartbeat(source, *heartbeat, key);
    auto back = wire::parseHeartbeat(again, key.empty() ? std::vector<std::string>{} : std::vector<std::string>{key});
    L2A_CHECK(back.ok());
    L2A_CHECK(back->node == heartbeat->node.substr(0, 255) && back->sequence == heartbeat->sequence &&
              back->incarnation == heartbeat->incarnation && back->intervalMs == heartbeat->intervalMs &&
              back->announced == heartbeat->announced && back->announcedCount == heartbeat->announcedCount);
  }
  return 0;
}

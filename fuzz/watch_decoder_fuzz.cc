// Watch stream decoding: any bytes, cut anywhere, give events or malformed counts, and the
// split does not change the result.
#include <string>

#include "common/check.h"
#include "kube/watch_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace l2a::kube;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  WatchDecoder whole, split;
  std::vector<std::string> a, b;
  whole.feed(text, [&](WatchEvent e) { a.push_back(e.type + e.object.dump()); });
  size_t cut = size / 2;
  split.feed(text.substr(0, cut), [&](WatchEvent e) { b.push_back(e.type + e.object.dump()); });
  split.feed(text.substr(cut), [&](WatchEvent e) { b.push_back(e.type + e.object.dump()); });
  L2A_CHECK(a == b);
  L2A_CHECK(whole.malformed() == split.malformed());
  return 0;
}

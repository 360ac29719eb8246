// kubeconfig parsing: any bytes give a config or an error value, never a crash or exception.
#include <string>

#include "kube/client_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = l2a::kube::parseKubeconfig(text, "/nonexistent");
  (void)config.ok();
  return 0;
}

// kube_get: one GET through the real client stack (kubeconfig → HttplibTransport → Client), for
// tests of TLS and authentication. Prints the body's first line, or "error: ..." and exits 1.
// Usage: kube_get KUBECONFIG PATH [COUNT INTERVAL_MS] (several GETs from one client, for the
// token-rotation test)
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "kube/client_config.h"
#include "kube/httplib_transport.h"

int main(int argc, char** argv) {
  using namespace l2a::kube;
  if (argc != 3 && argc != 5) return 64;
  int count = argc == 5 ? std::atoi(argv[3]) : 1;
  int intervalMs = argc == 5 ? std::atoi(argv[4]) : 0;
  auto config = loadKubeconfig(argv[1]);
  if (!config) {
    std::printf("error: %s\n", config.error().message.c_str());
    return 1;
  }
  HttplibTransport transport(*config, std::chrono::seconds(5));
  bool ok = true;
  for (int i = 0; i < count; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(intervalMs));
    auto response = transport.send({.method = "GET", .target = argv[2]});
    if (!response) {
      std::printf("error: %s\n", response.error().message.c_str());
      return 1;
    }
    std::printf("status %ld: %s\n", response->status, response->body.substr(0, response->body.find('\n')).c_str());
    std::fflush(stdout);
    ok = ok && response->status == 200;
  }
  return ok ? 0 : 1;
}

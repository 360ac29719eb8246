// quiet_watch: one watch through the real client stack with the client's default options, on a
// resource nothing changes, for SECONDS: does it stay open across the API server's bookmarks?
// Prints "bookmarks=N events=N ended=REASON" and exits 0 when the watch was still open at the
// end (stopped by us) with at least one bookmark seen, 1 otherwise.
// Usage: quiet_watch KUBECONFIG NAMESPACE SECONDS
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "kube/client.h"
#include "kube/client_config.h"
#include "kube/httplib_transport.h"

int main(int argc, char** argv) {
  using namespace l2a::kube;
  if (argc != 4) return 64;
  auto config = loadKubeconfig(argv[1]);
  if (!config) {
    std::printf("error: %s\n", config.error().message.c_str());
    return 1;
  }
  // ConfigMaps: served from kube-apiserver's watch cache, which sends the bookmarks (Events are
  // not cached, and get none).
  const Resource configmaps{"", "v1", "configmaps", true, "ConfigMap"};
  HttplibTransport transport(*config);
  Client client(transport);
  auto listed = client.list(configmaps, argv[2]);
  if (!listed) {
    std::printf("error: %s\n", listed.error().message.c_str());
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread timer([&] {
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[3])));
    stop = true;
  });
  int bookmarks = 0, events = 0;
  WatchOptions options;  // the defaults the informers use
  options.resourceVersion = listed->value("/metadata/resourceVersion"_json_pointer, std::string());
  auto ended = client.watch(
      configmaps, argv[2], options,
      [&](const WatchEvent& e) {
        (e.type == "BOOKMARK" ? bookmarks : events)++;
        return true;
      },
      stop);
  bool stoppedByUs = stop.load();
  stop = true;
  timer.join();
  std::printf("bookmarks=%d events=%d ended=%s\n", bookmarks, events,
              stoppedByUs ? "stopped-at-the-deadline"
              : ended     ? "server-closed-the-watch"
                          : ended.error().message.c_str());
  return stoppedByUs && bookmarks > 0 ? 0 : 1;
}

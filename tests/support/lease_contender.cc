// lease_contender: one leader-election contender in its own process, for the multi-process
// election test. Prints "leading ID" / "stopped ID" lines; releases the lease on SIGTERM.
// Usage: lease_contender SERVER_URL LEASE IDENTITY
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "kube/client.h"
#include "kube/httplib_transport.h"
#include "kube/leader_elector.h"

int main(int argc, char** argv) {
  using namespace l2a::kube;
  if (argc != 4) return 64;
  std::string identity = argv[3];
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  HttplibTransport transport(ClientConfig{.server = argv[1]});
  Client client(transport);
  LeaderElector elector(
      client,
      {.ns = "kube-system", .name = argv[2], .identity = identity,
       .leaseDuration = std::chrono::milliseconds(2000),
       .renewDeadline = std::chrono::milliseconds(1500),
       .retryPeriod = std::chrono::milliseconds(200)},
      {.onStartedLeading = [&] { std::printf("leading %s\n", identity.c_str()); std::fflush(stdout); },
       .onStoppedLeading = [&] { std::printf("stopped %s\n", identity.c_str()); std::fflush(stdout); }});
  std::atomic<bool> stop{false};
  std::thread signalWaiter([&] {
    int sig;
    sigwait(&signals, &sig);
    stop = true;
  });
  LeaseDriver driver;
  driver.add(elector);
  driver.run(stop);
  signalWaiter.join();
  (void)elector.release();
  return 0;
}

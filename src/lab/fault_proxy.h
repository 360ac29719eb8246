// FaultProxy: a TLS-terminating proxy in front of kube-apiserver for the chaos suite. The agents
// and the operator talk to it instead of the API server, and it brings what a bad day brings:
// error statuses and 429s with Retry-After or delays (a FaultPlan), dropped watches, refused
// connections — driven like the lab API server through /admin on a plain-HTTP port of its own.
// Each request goes upstream on a TLS connection of its own (verified with the lab's CA) with
// `Connection: close`, and the answer — a watch stream too — is copied back as it comes.
// Lab and tests only: never linked into l2a. serve() blocks; shutdown() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "lab/fault_plan.h"

namespace httplib {
class Server;
}

namespace l2a::lab {

struct FaultProxyOptions {
  std::string listenHost = "127.0.0.1";
  int listenPort = 0;
  std::string upstreamHost = "127.0.0.1";
  int upstreamPort = 6443;
  std::string certificateFile;  // PEM the proxy serves (the API server's own will do)
  std::string keyFile;
  std::string caFile;  // verifies the upstream
  std::string adminHost = "127.0.0.1";
  int adminPort = 0;
};

// The request line and headers of an HTTP/1.1 request head ("GET /x HTTP/1.1\r\nA: b\r\n..."),
// header names lower-cased. Pure; an error for anything that is not such a head.
struct RequestHead {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;
  size_t contentLength = 0;
  bool chunked = false;
  bool watch = false;  // the query asks for a watch (watch=1 or watch=true)
};
Result<RequestHead> parseRequestHead(std::string_view head);

class FaultProxy {
 public:
  explicit FaultProxy(FaultProxyOptions options);
  ~FaultProxy();

  // Loads the certificates and binds both ports; returns "https://HOST:PORT admin http://HOST:PORT".
  Result<std::string> start();
  void serve();
  void shutdown();

 private:
  struct Connection {
    int client;
    int upstream;
    bool watch;
  };
  Status<> listen();
  void acceptLoop();
  void handle(int fd);
  void closeConnections(bool watchesOnly);
  void admin(httplib::Server& server);

  const FaultProxyOptions options_;
  void* serverContext_ = nullptr;  // SSL_CTX*
  void* clientContext_ = nullptr;  // SSL_CTX*
  std::unique_ptr<httplib::Server> adminServer_;
  FaultPlan faults_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> handlers_{0};  // handle() calls running
  std::atomic<int> listenFd_{-1};
  int boundPort_ = 0;
  std::mutex mutex_;
  std::set<Connection*> connections_;
  std::chrono::steady_clock::time_point outageUntil_{};
};

}  // namespace l2a::lab

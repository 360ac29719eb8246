// HttplibTransport: HttpTransport over cpp-httplib and OpenSSL — TLS verification on by default
// (the kubeconfig's CA alone when it names one, the system's otherwise; the server's name or
// address checked by OpenSSL), client certificates and CA from memory, bearer token (re-read
// from its file when it changes, or from an exec credential plugin, cached until it expires and
// fetched again after a 401), HTTP/1.1 with keep-alive, User-Agent l2a/<version>. Thread-safe:
// each exchange takes an idle connection from a pool or opens one; each stream has its own, and
// one watchdog thread (started with the first stream) ends the streams whose caller stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/client_config.h"
#include "kube/exec_credential.h"
#include "kube/http_transport.h"

namespace httplib {
class ClientImpl;
}

namespace l2a::kube {

// A server URL's parts: scheme, host (an IPv6 address without brackets), port, the Host header,
// and a path prefix (a proxying server's) that goes before every target.
struct ServerUrl {
  bool tls = false;
  std::string host;
  int port = 0;
  std::string hostHeader;
  std::string pathPrefix;
};

class HttplibTransport : public HttpTransport {
 public:
  // `requestTimeout` bounds connecting and each wait for the server's next bytes (watches take
  // their idle limit instead).
  explicit HttplibTransport(ClientConfig config,
                            std::chrono::milliseconds requestTimeout = std::chrono::seconds(30));
  ~HttplibTransport() override;
  // The bound of the requests sent from now on (any thread): for a client whose every request
  // has a budget of its own (a Lease renewal: what is left until its renew deadline).
  void setRequestTimeout(std::chrono::milliseconds timeout) { requestTimeoutMs_.store(timeout.count()); }

  Result<HttpResponse> send(const HttpRequest& request) override;
  Result<HttpResponse> stream(const HttpRequest& request,
                              const std::function<bool(std::string_view)>& onData,
                              const std::function<bool()>& stopped, int idleTimeoutSeconds) override;

 private:
  // A connection and the client certificate it was opened with (a plugin may hand out another).
  struct Connection {
    std::unique_ptr<httplib::ClientImpl> client;
    std::string certificate;
  };
  // A stream the watchdog looks after while it runs.
  struct Watched {
    httplib::ClientImpl* client;
    const std::function<bool()>* stopped;
    bool stoppedByCaller = false;
  };
  struct Credentials {
    std::string token;
    std::string certificate;
    std::string key;
  };

  Result<Credentials> credentials();
  Result<Connection> open(const Credentials& credentials) const;
  Result<Connection> take(const Credentials& credentials);
  void giveBack(Connection connection);
  std::string bearerToken();
  Result<HttpResponse> perform(Connection& connection, const Credentials& credentials,
                               const HttpRequest& request,
                               const std::function<bool(std::string_view)>* onData,
                               Watched* watched, int idleTimeoutSeconds);
  Result<HttpResponse> exchange(const HttpRequest& request,
                                const std::function<bool(std::string_view)>* onData,
                                const std::function<bool()>* stopped, int idleTimeoutSeconds);
  void watch(Watched* watched);
  void unwatch(Watched* watched);
  void watchdog();

  const ClientConfig config_;
  // Parsed from config_.server once; when it cannot be used, every request fails so.
  const Result<ServerUrl> server_;
  std::atomic<int64_t> requestTimeoutMs_;
  std::unique_ptr<ExecCredentialSource> exec_;  // when the kubeconfig names a plugin
  std::mutex mutex_;
  std::vector<Connection> idle_;
  std::string token_;
  long long tokenModified_ = -1;

  std::mutex watchMutex_;
  std::condition_variable watchWake_;
  std::vector<Watched*> watched_;
  bool closing_ = false;
  std::thread watchdog_;
};

}  // namespace l2a::kube

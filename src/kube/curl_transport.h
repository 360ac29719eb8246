// CurlTransport: HttpTransport over libcurl — TLS verification on by default, client
// certificates and CA from memory, bearer token (re-read from its file when it changes, or from
// an exec credential plugin, cached until it expires and fetched again after a 401), HTTP/2
// when the server offers it over TLS, User-Agent l2a/<version>. Thread-safe: each exchange
// takes an idle easy handle from a pool (so connections are reused) or makes one.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kube/client_config.h"
#include "kube/exec_credential.h"
#include "kube/http_transport.h"

namespace l2a::kube {

class CurlTransport : public HttpTransport {
 public:
  // `requestTimeout` bounds a whole exchange (connecting included), watches excepted.
  explicit CurlTransport(ClientConfig config,
                         std::chrono::milliseconds requestTimeout = std::chrono::seconds(30));
  ~CurlTransport() override;
  // The bound of the requests sent from now on (any thread): for a client whose every request
  // has a budget of its own (a Lease renewal: what is left until its renew deadline).
  void setRequestTimeout(std::chrono::milliseconds timeout) { requestTimeoutMs_.store(timeout.count()); }

  Result<HttpResponse> send(const HttpRequest& request) override;
  Result<HttpResponse> stream(const HttpRequest& request,
                              const std::function<bool(std::string_view)>& onData,
                              const std::function<bool()>& stopped, int idleTimeoutSeconds) override;

 private:
  void* takeHandle();
  void giveBack(void* handle);
  std::string bearerToken();
  Result<HttpResponse> perform(void* handle, const HttpRequest& request,
                               const std::function<bool(std::string_view)>* onData,
                               const std::function<bool()>* stopped, int idleTimeoutSeconds);

  const ClientConfig config_;
  std::atomic<int64_t> requestTimeoutMs_;
  std::unique_ptr<ExecCredentialSource> exec_;  // when the kubeconfig names a plugin
  std::mutex mutex_;
  std::vector<void*> idle_;
  std::string token_;
  long long tokenModified_ = -1;
};

}  // namespace l2a::kube

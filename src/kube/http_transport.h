// HttpTransport: one HTTP exchange with the API server, whole or streamed. The client is written
// against this interface; HttplibTransport is the real one, tests also use fakes.
// Implementations are safe to call from several threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace l2a::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path and query: /api/v1/services?limit=500
  std::string body;
  std::string contentType = "application/json";
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Error code "connection" when no HTTP answer came (refused, reset, timed out).
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  // Streams the body to `onData` as it arrives, until the server ends it, `onData` returns
  // false, `stopped()` becomes true (polled about once a second and on every chunk), or nothing
  // arrives for `idleTimeoutSeconds`. The body holds what was received only when the status is
  // not 200.
  virtual Result<HttpResponse> stream(const HttpRequest& request,
                                      const std::function<bool(std::string_view)>& onData,
                                      const std::function<bool()>& stopped, int idleTimeoutSeconds) = 0;
};

}  // namespace l2a::kube

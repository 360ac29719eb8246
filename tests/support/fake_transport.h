// FakeTransport: an in-memory HttpTransport answering from a queue of scripted responses (or a
// handler), recording every request. For Client/Informer/LeaderElector tests without sockets.
// Single-threaded.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "kube/http_transport.h"

namespace l2a::testing {

class FakeTransport : public kube::HttpTransport {
 public:
  using Handler = std::function<Result<kube::HttpResponse>(const kube::HttpRequest&)>;

  void script(long status, std::string body, std::map<std::string, std::string> headers = {}) {
    scripted.push_back(kube::HttpResponse{status, std::move(body), std::move(headers)});
  }
  void scriptConnectionError() { scripted.push_back(Error{"connection", "refused"}); }

  Result<kube::HttpResponse> send(const kube::HttpRequest& request) override {
    requests.push_back(request);
    if (handler) return handler(request);
    if (scripted.empty()) return fail("connection", "nothing scripted");
    auto next = scripted.front();
    scripted.pop_front();
    if (auto* e = std::get_if<Error>(&next)) return fail(*e);
    return std::get<kube::HttpResponse>(next);
  }
  Result<kube::HttpResponse> stream(const kube::HttpRequest& request,
                                    const std::function<bool(std::string_view)>& onData,
                                    const std::function<bool()>&, int) override {
    auto response = send(request);
    if (response && response->status == 200) {
      onData(response->body);
      response->body.clear();
    }
    return response;
  }

  Handler handler;
  std::deque<std::variant<kube::HttpResponse, Error>> scripted;
  std::vector<kube::HttpRequest> requests;
};

}  // namespace l2a::testing

// MetricsServer: /metrics (Prometheus text), /healthz (the process serves: 200) and /readyz
// (200 "ready" when `notReady()` says "", else 503 "not ready: " and its reason — a 403 names
// the missing permission) on one address, for the agent and the operator. Owns its listening
// thread; destroyed = stopped.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"

namespace httplib {
class Server;
}

namespace l2a::cli {

class MetricsServer {
 public:
  static constexpr size_t kServingThreads = 3;
  // `bind` is HOST:PORT ("0.0.0.0:9611", "[::]:9611").
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& bind,
                                                      std::function<std::string()> metrics,
                                                      std::function<std::string()> notReady);
  ~MetricsServer();

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace l2a::cli

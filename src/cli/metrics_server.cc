#include "cli/metrics_server.h"

#include <fmt/format.h>
#include <httplib.h>

namespace l2a::cli {

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& bind,
                                                            std::function<std::string()> metrics,
                                                            std::function<std::string()> notReady) {
  auto colon = bind.rfind(':');
  if (colon == std::string::npos) return fail("usage", fmt::format("--metrics-bind wants HOST:PORT, got '{}'", bind));
  std::string host = bind.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = std::atoi(bind.substr(colon + 1).c_str());
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->server_ = std::make_unique<httplib::Server>();
  // A scraper and the kubelet's two probes at once; not httplib's default of eight, each of
  // which would keep a malloc arena of its own (the agent's, malloc_arenas.h) for good.
  m->server_->new_task_queue = [] { return new httplib::ThreadPool(kServingThreads); };
  m->server_->set_keep_alive_timeout(1);  // an idle connection does not hold one of them for 5 s
  m->server_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  m->server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  m->server_->Get("/readyz", [notReady](const httplib::Request&, httplib::Response& res) {
    std::string why = notReady();
    res.status = why.empty() ? 200 : 503;
    res.set_content(why.empty() ? "ready\n" : "not ready: " + why + "\n", "text/plain");
  });
  if (!m->server_->bind_to_port(host, port)) {
    return fail("usage", fmt::format("cannot listen on {} for metrics", bind));
  }
  m->thread_ = std::thread([s = m->server_.get()] { s->listen_after_bind(); });
  return m;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace l2a::cli

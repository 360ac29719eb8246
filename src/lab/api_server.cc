#include "lab/api_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "lab/api_reply.h"

namespace l2a::lab {

using namespace api;

ApiServer::ApiServer(ApiServerOptions options)
    : options_(std::move(options)),
      store_(options_.historyLimit, options_.dataDirectory),
      server_(std::make_unique<httplib::Server>()) {}

ApiServer::~ApiServer() = default;

void ApiServer::count(const std::string& verb, const std::string& resource, int code) {
  std::lock_guard lock(mutex_);
  ++counts_[{verb, resource, code}];
}

bool ApiServer::injectFault(const std::string& verb, httplib::Response& res) {
  FaultPlan::Decision fault = faults_.decide(verb, std::chrono::steady_clock::now());
  if (fault.delay.count() > 0) std::this_thread::sleep_for(fault.delay);
  if (fault.status == 0) return false;
  if (fault.retryAfterSeconds > 0) res.set_header("Retry-After", std::to_string(fault.retryAfterSeconds));
  reply(res, fault.status,
        statusBody(fault.status, fault.status == 429 ? "TooManyRequests" : "InternalError", "injected fault"));
  return true;
}

Result<std::string> ApiServer::start() {
  if (auto s = store_.load(); !s) return fail(s.error());
  // Replay CRDs so custom resources are served again after a restart.
  auto crds = store_.list("apiextensions.k8s.io/customresourcedefinitions", "", LabelSelector(), FieldSelector());
  for (const Json& crd : crds.items) registry_.addCrd(crd);
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (!store_.get("/namespaces", "", ns)) {
      (void)store_.create("/namespaces", "",
                          {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}},
                           {"status", {{"phase", "Active"}}}});
    }
  }
  configure(*server_);
  if (options_.port == 0) {
    boundPort_ = server_->bind_to_any_port(options_.host);
  } else {
    boundPort_ = server_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (boundPort_ > 0) widenBacklog();
  if (boundPort_ <= 0) {
    return fail("listen", fmt::format("cannot listen on {}:{}", options_.host, options_.port));
  }
  bool v6 = options_.host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", options_.host, v6 ? "]" : "", boundPort_);
}

void ApiServer::configure(httplib::Server& server) {
  // Watches hold a worker each for their lifetime: a large pool.
  server.new_task_queue = [workers = options_.workers] { return new httplib::ThreadPool(workers); };
  server.set_socket_options([this](int sock) {
    httplib::default_socket_options(sock);
    listening_ = sock;  // the last socket made is the one bound (see widenBacklog)
  });
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1000);
  server.set_payload_max_length(64 << 20);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { route(req, res); };
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Patch(".*", handler);
  server.Delete(".*", handler);
}

void ApiServer::widenBacklog() {
  // cpp-httplib listens with a backlog of 5, built into Debian's library: 100 agents
  // (re)connecting at once overflowed it, and their SYNs, dropped, were answered 17-20 s late.
  // Listening again on the bound socket only sets a larger backlog.
  if (listening_ >= 0 && ::listen(listening_, kBacklog) != 0) {
    spdlog::warn("event=backlog_not_widened error=\"{}\"", std::strerror(errno));
  }
}

void ApiServer::serve() {
  while (!stopping_) {
    server_->listen_after_bind();
    if (stopping_) break;
    // An injected outage: nothing listens until it is over, then the same address again.
    std::chrono::steady_clock::time_point until;
    {
      std::lock_guard lock(mutex_);
      until = outageUntil_;
    }
    while (!stopping_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    server_ = std::make_unique<httplib::Server>();
    configure(*server_);
    while (!stopping_ && !server_->bind_to_port(options_.host, boundPort_)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    widenBacklog();
  }
}

void ApiServer::shutdown() {
  stopping_ = true;
  store_.closeWatches();
  server_->stop();
}

void ApiServer::admin(const httplib::Request& req, httplib::Response& res) {
  auto seconds = [&](const char* name, int fallback) {
    std::string v = param(req, name);
    return v.empty() ? fallback : std::atoi(v.c_str());
  };
  if (req.path == "/admin/counters") {
    Json out = Json::array();
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : counts_) {
      out.push_back({{"verb", std::get<0>(key)}, {"resource", std::get<1>(key)},
                     {"code", std::get<2>(key)}, {"count", n}});
    }
    return reply(res, 200, out);
  }
  if (req.path == "/admin/fault" && req.method == "POST") {
    auto set = faults_.set([&](const char* name) { return param(req, name); }, std::chrono::steady_clock::now());
    if (!set) return reply(res, 400, statusBody(400, "BadRequest", set.error().message));
    return reply(res, 200, {{"fault", param(req, "mode")}});
  }
  if (req.path == "/admin/close-watches" && req.method == "POST") {
    store_.closeWatches();
    return reply(res, 200, {{"closed", true}});
  }
  if (req.path == "/admin/outage" && req.method == "POST") {
    {
      std::lock_guard lock(mutex_);
      outageUntil_ = std::chrono::steady_clock::now() + std::chrono::seconds(seconds("seconds", 5));
    }
    store_.closeWatches();
    reply(res, 200, {{"outage", true}});
    std::thread([this] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let this answer leave
      server_->stop();
    }).detach();
    return;
  }
  reply(res, 404, statusBody(404, "NotFound", "unknown admin endpoint"));
}

std::optional<ApiServer::ApiRequest> ApiServer::parse(const httplib::Request& req) const {
  auto parts = splitPath(req.path);
  std::string group, version;
  size_t i;
  if (parts.size() >= 3 && parts[0] == "api") {
    version = parts[1];
    i = 2;
  } else if (parts.size() >= 4 && parts[0] == "apis") {
    group = parts[1];
    version = parts[2];
    i = 3;
  } else {
    return std::nullopt;
  }
  ApiRequest r;
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  if (rest.size() >= 3 && rest[0] == "namespaces" && registry_.find(group, version, rest[2])) {
    r.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  auto found = registry_.find(group, version, rest[0]);
  if (rest.size() > 1) r.name = rest[1];
  if (rest.size() > 2) r.sub = rest[2];
  if (!found || rest.size() > 3 || (!r.sub.empty() && !(r.sub == "status" && found->hasStatus))) return std::nullopt;
  r.info = *found;
  if (!r.info.namespaced) r.ns.clear();
  return r;
}

void ApiServer::route(const httplib::Request& req, httplib::Response& res) {
  if (req.path.rfind("/admin/", 0) == 0) return admin(req, res);
  bool watching = param(req, "watch") == "1" || param(req, "watch") == "true";
  {
    // The verb as Kubernetes names it, for verb-scoped faults.
    bool watch = req.has_param("watch") && req.get_param_value("watch") != "false";
    std::string verb = requestVerb(req.method, watch);
    if (injectFault(verb, res)) {
      count(verb, req.path, res.status);
      return;
    }
  }
  if (req.method == "GET" && discovery(req, res)) return;
  auto r = parse(req);
  if (!r) return reply(res, 404, statusBody(404, "NotFound", "the server could not find the requested resource"));
  if (req.method == "GET" && r->name.empty()) return watching ? watch(*r, req, res) : list(*r, req, res);
  if (req.method == "GET") return get(*r, req, res);
  if (req.method == "DELETE") return remove(*r, req, res);

  std::string verb = req.method == "POST" ? "create" : req.method == "PUT" ? "update" : "patch";
  // Typed client-go clients (kubectl create service, create token, ...) send protobuf; the lab
  // server reads JSON only and says so (docs/lab.md: differences from kube-apiserver).
  if (std::string type = req.get_header_value("Content-Type");
      req.method != "PATCH" && !type.empty() && type.find("json") == std::string::npos) {
    count(verb, r->id(), 415);
    return reply(res, 415, statusBody(415, "UnsupportedMediaType",
                                      fmt::format("the lab API server reads JSON request bodies only, not {}", type)));
  }
  Json body = Json::parse(req.body, nullptr, false);
  bool jsonPatch = req.method == "PATCH" && req.get_header_value("Content-Type").rfind("application/json-patch+json", 0) == 0;
  if (!(body.is_object() || (jsonPatch && body.is_array()))) {
    count(verb, r->id(), 400);
    return reply(res, 400, statusBody(400, "BadRequest", jsonPatch ? "a JSON patch is a JSON array of operations"
                                                                   : "the request body is not a JSON object"));
  }
  if (req.method == "POST") return create(*r, req, std::move(body), res);
  if (req.method == "PUT") return update(*r, req, std::move(body), res);
  patch(*r, req, body, res);
}

}  // namespace l2a::lab

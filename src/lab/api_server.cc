#include "lab/api_server.h"

#include "lab/strategic_merge_patch.h"
#include "lab/table.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <random>
#include <thread>

namespace l2a::lab {
namespace {

constexpr const char* kJson = "application/json";

Json statusBody(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", Json::object()},
          {"status", "Failure"},
          {"message", message},
          {"reason", reason},
          {"code", code}};
}

void reply(httplib::Response& res, int code, const Json& body) {
  res.status = code;
  res.set_content(body.dump(), kJson);
}

void replyFailure(httplib::Response& res, const ApiFailure& f) {
  reply(res, f.code, statusBody(f.code, f.reason, f.message));
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::string param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : "";
}

std::string randomSuffix() {
  static std::mt19937 rng{std::random_device{}()};
  static const char* chars = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (int i = 0; i < 5; ++i) s.push_back(chars[rng() % 27]);
  return s;
}

bool validName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-' || c == '.')) {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(name.front())) &&
         std::isalnum(static_cast<unsigned char>(name.back()));
}

}  // namespace

ApiServer::ApiServer(ApiServerOptions options)
    : options_(std::move(options)),
      store_(options_.historyLimit, options_.dataDirectory),
      server_(std::make_unique<httplib::Server>()) {
  auto core = [this](const char* plural, const char* singular, const char* kind, bool namespaced,
                     bool hasStatus, std::vector<std::string> shortNames) {
    registerResource({"", "v1", plural, singular, kind, namespaced, hasStatus, std::move(shortNames)});
  };
  core("namespaces", "namespace", "Namespace", false, true, {"ns"});
  core("nodes", "node", "Node", false, true, {"no"});
  core("services", "service", "Service", true, true, {"svc"});
  core("endpoints", "endpoints", "Endpoints", true, false, {"ep"});
  core("events", "event", "Event", true, false, {"ev"});
  core("configmaps", "configmap", "ConfigMap", true, false, {"cm"});
  core("serviceaccounts", "serviceaccount", "ServiceAccount", true, false, {"sa"});
  registerResource({"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, false, {}});
  registerResource({"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, {}});
  registerResource({"events.k8s.io", "v1", "events", "event", "Event", true, false, {"ev"}});
  // Kinds the deploy manifests use, stored as they are (nothing runs them in the lab).
  registerResource({"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, true, {"ds"}});
  registerResource({"apps", "v1", "deployments", "deployment", "Deployment", true, true, {"deploy"}});
  for (const auto& [plural, kind, namespaced] : std::vector<std::tuple<std::string, std::string, bool>>{
           {"clusterroles", "ClusterRole", false}, {"clusterrolebindings", "ClusterRoleBinding", false},
           {"roles", "Role", true}, {"rolebindings", "RoleBinding", true}}) {
    registerResource({"rbac.authorization.k8s.io", "v1", plural, plural.substr(0, plural.size() - 1), kind, namespaced, false, {}});
  }
  registerResource({"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                    "customresourcedefinition", "CustomResourceDefinition", false, true, {"crd", "crds"}});
}

ApiServer::~ApiServer() = default;

void ApiServer::registerResource(const ResourceInfo& info) {
  std::lock_guard lock(mutex_);
  resources_[info.group + "/" + info.version + "/" + info.plural] = info;
}

const ResourceInfo* ApiServer::findResource(const std::string& group, const std::string& version,
                                            const std::string& plural) const {
  std::lock_guard lock(mutex_);
  auto it = resources_.find(group + "/" + version + "/" + plural);
  return it == resources_.end() ? nullptr : &it->second;
}

void ApiServer::registerCrd(const Json& crd) {
  const Json& spec = crd["spec"];
  for (const Json& version : spec.value("versions", Json::array())) {
    if (!version.value("served", true)) continue;
    ResourceInfo info;
    info.group = spec.value("group", "");
    info.version = version.value("name", "");
    info.plural = spec["names"].value("plural", "");
    info.singular = spec["names"].value("singular", "");
    info.kind = spec["names"].value("kind", "");
    info.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    info.hasStatus = version.contains("subresources") && version["subresources"].contains("status");
    for (const Json& s : spec["names"].value("shortNames", Json::array())) info.shortNames.push_back(s);
    info.printerColumns = version.value("additionalPrinterColumns", Json::array());
    registerResource(info);
  }
}

void ApiServer::unregisterCrd(const Json& crd) {
  const Json& spec = crd["spec"];
  std::string group = spec.value("group", "");
  std::string plural = spec["names"].value("plural", "");
  {
    std::lock_guard lock(mutex_);
    std::erase_if(resources_, [&](const auto& entry) {
      return entry.second.group == group && entry.second.plural == plural;
    });
  }
  store_.removeAll(group + "/" + plural);
}

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
  for (const Json& crd : crds.items) registerCrd(crd);
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
  if (boundPort_ <= 0) {
    return fail("listen", fmt::format("cannot listen on {}:{}", options_.host, options_.port));
  }
  bool v6 = options_.host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", options_.host, v6 ? "]" : "", boundPort_);
}

void ApiServer::configure(httplib::Server& server) {
  // Watches hold a worker each for their lifetime: a large pool.
  server.new_task_queue = [] { return new httplib::ThreadPool(256); };
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

bool ApiServer::discovery(const httplib::Request& req, httplib::Response& res) {
  const std::string& path = req.path;
  if (path == "/version") {
    reply(res, 200, {{"major", "1"}, {"minor", "30"}, {"gitVersion", "v1.30.0-l2a-lab"},
                     {"platform", "linux/amd64"}});
    return true;
  }
  if (path == "/healthz" || path == "/readyz" || path == "/livez") {
    res.set_content("ok", "text/plain");
    return true;
  }
  if (path == "/api") {
    reply(res, 200, {{"kind", "APIVersions"}, {"versions", {"v1"}},
                     {"serverAddressByClientCIDRs",
                      {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", fmt::format("{}:{}", options_.host, boundPort_)}}}}});
    return true;
  }
  std::lock_guard lock(mutex_);
  // OpenAPI v3, only as much as kubectl needs to see that the server validates fields itself
  // (fieldValidation on PATCH): then it skips client-side schema validation.
  if (path == "/openapi/v3") {
    Json paths = Json::object();
    for (const auto& [k, info] : resources_) {
      std::string gv = info.group.empty() ? "api/" + info.version : "apis/" + info.group + "/" + info.version;
      paths[gv] = {{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=lab"}};
    }
    reply(res, 200, {{"paths", paths}});
    return true;
  }
  if (path.rfind("/openapi/v3/", 0) == 0) {
    std::string gv = path.substr(12);
    Json paths = Json::object();
    for (const auto& [k, info] : resources_) {
      std::string mine = info.group.empty() ? "api/" + info.version : "apis/" + info.group + "/" + info.version;
      if (mine != gv) continue;
      Json op{{"x-kubernetes-group-version-kind",
               {{"group", info.group}, {"version", info.version}, {"kind", info.kind}}},
              {"parameters", {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                              {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
              {"responses", {{"200", {{"description", "OK"}}}}}};
      std::string base = "/" + gv + (info.namespaced ? "/namespaces/{namespace}/" : "/") + info.plural + "/{name}";
      paths[base] = {{"patch", op}, {"get", op}, {"put", op}};
    }
    if (paths.empty()) return false;
    reply(res, 200, {{"openapi", "3.0.0"}, {"info", {{"title", "l2a-lab"}, {"version", "v1.30.0"}}},
                     {"paths", paths}, {"components", {{"schemas", Json::object()}}}});
    return true;
  }
  if (path == "/apis") {
    std::map<std::string, std::vector<std::string>> groups;
    for (const auto& [k, info] : resources_) {
      if (info.group.empty()) continue;
      auto& versions = groups[info.group];
      if (std::find(versions.begin(), versions.end(), info.version) == versions.end()) versions.push_back(info.version);
    }
    Json list = Json::array();
    for (const auto& [group, versions] : groups) {
      Json vs = Json::array();
      for (const auto& v : versions) vs.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
      list.push_back({{"name", group}, {"versions", vs}, {"preferredVersion", vs[0]}});
    }
    reply(res, 200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", list}});
    return true;
  }
  auto parts = splitPath(path);
  std::string group, version;
  if (parts.size() == 2 && parts[0] == "api") {
    version = parts[1];
  } else if (parts.size() == 3 && parts[0] == "apis") {
    group = parts[1];
    version = parts[2];
  } else {
    return false;
  }
  Json resources = Json::array();
  for (const auto& [k, info] : resources_) {
    if (info.group != group || info.version != version) continue;
    Json r{{"name", info.plural}, {"singularName", info.singular}, {"namespaced", info.namespaced},
           {"kind", info.kind},
           {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}}};
    if (!info.shortNames.empty()) r["shortNames"] = info.shortNames;
    resources.push_back(r);
    if (info.hasStatus) {
      resources.push_back({{"name", info.plural + "/status"}, {"singularName", ""},
                           {"namespaced", info.namespaced}, {"kind", info.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  if (resources.empty()) return false;
  reply(res, 200, {{"kind", "APIResourceList"}, {"apiVersion", "v1"},
                   {"groupVersion", group.empty() ? version : group + "/" + version},
                   {"resources", resources}});
  return true;
}

void ApiServer::route(const httplib::Request& req, httplib::Response& res) {
  if (req.path.rfind("/admin/", 0) == 0) return admin(req, res);
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

  // /api/v1/... or /apis/GROUP/VERSION/...
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
    return reply(res, 404, statusBody(404, "NotFound", "the server could not find the requested resource"));
  }
  std::string ns, plural, name, sub;
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  if (rest.size() >= 3 && rest[0] == "namespaces" && findResource(group, version, rest[2])) {
    ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  plural = rest[0];
  if (rest.size() > 1) name = rest[1];
  if (rest.size() > 2) sub = rest[2];
  const ResourceInfo* found = findResource(group, version, plural);
  if (found == nullptr || rest.size() > 3 || (!sub.empty() && !(sub == "status" && found->hasStatus))) {
    return reply(res, 404, statusBody(404, "NotFound", "the server could not find the requested resource"));
  }
  const ResourceInfo info = *found;
  if (!info.namespaced) ns.clear();
  const std::string id = info.storeId();
  std::string verb;
  auto done = [&](int code) { count(verb, info.storeId(), code); };

  if (req.method == "GET" && name.empty()) {
    bool watch = param(req, "watch") == "1" || param(req, "watch") == "true";
    verb = watch ? "watch" : "list";
    auto labels = LabelSelector::parse(param(req, "labelSelector"));
    auto fields = FieldSelector::parse(param(req, "fieldSelector"));
    if (!labels || !fields) {
      done(400);
      return reply(res, 400, statusBody(400, "BadRequest",
                                        !labels ? labels.error().message : fields.error().message));
    }
    if (!watch) {
      auto result = store_.list(id, ns, *labels, *fields);
      size_t start = 0;
      std::string token = param(req, "continue");
      if (!token.empty()) start = static_cast<size_t>(std::strtoull(token.c_str(), nullptr, 10));
      size_t limit = static_cast<size_t>(std::strtoull(param(req, "limit").c_str(), nullptr, 10));
      Json items = Json::array();
      size_t end = limit > 0 ? std::min(result.items.size(), start + limit) : result.items.size();
      for (size_t k = start; k < end; ++k) items.push_back(std::move(result.items[k]));
      Json meta{{"resourceVersion", std::to_string(result.resourceVersion)}};
      if (end < result.items.size()) meta["continue"] = std::to_string(end);
      done(200);
      if (wantsTable(req.get_header_value("Accept"))) {
        Json table = toTable(info, items.get<std::vector<Json>>(), meta["resourceVersion"]);
        if (meta.contains("continue")) table["metadata"]["continue"] = meta["continue"];
        return reply(res, 200, table);
      }
      return reply(res, 200, {{"kind", info.kind + "List"}, {"apiVersion", info.apiVersion()},
                              {"metadata", meta}, {"items", items}});
    }
    // Watch: from the given version (replaying what happened since), or from now with the
    // current objects as ADDED events when no version (or "0") is given.
    std::string from = param(req, "resourceVersion");
    bool bookmarks = param(req, "allowWatchBookmarks") == "true";
    int timeoutSeconds = std::atoi(param(req, "timeoutSeconds").c_str());
    if (timeoutSeconds <= 0) timeoutSeconds = 1800;
    auto state = std::make_shared<std::tuple<uint64_t, bool, uint64_t>>(0, false, store_.watchEpoch());
    std::vector<Json> initial;
    if (from.empty() || from == "0") {
      auto current = store_.list(id, ns, *labels, *fields);
      std::get<0>(*state) = current.resourceVersion;
      for (auto& o : current.items) initial.push_back({{"type", "ADDED"}, {"object", std::move(o)}});
    } else {
      std::get<0>(*state) = std::strtoull(from.c_str(), nullptr, 10);
    }
    done(200);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    auto labelSel = std::make_shared<LabelSelector>(*labels);
    auto fieldSel = std::make_shared<FieldSelector>(*fields);
    bool table = wantsTable(req.get_header_value("Accept"));
    if (table) {
      for (Json& e : initial) e["object"] = toTable(info, {e["object"]}, "");
    }
    auto pending = std::make_shared<std::vector<Json>>(std::move(initial));
    // "stream=watch" also keeps cpp-httplib from gzip-buffering the stream.
    res.set_chunked_content_provider(
        "application/json;stream=watch", [this, info, table, id, ns, state, bookmarks, deadline, labelSel, fieldSel, pending](
                   size_t, httplib::DataSink& sink) {
          auto send = [&sink](const Json& event) {
            std::string line = event.dump() + "\n";
            return sink.write(line.data(), line.size());
          };
          for (const Json& e : *pending) {
            if (!send(e)) return false;
          }
          pending->clear();
          auto& [cursor, finished, epoch] = *state;
          if (finished || stopping_ || std::chrono::steady_clock::now() >= deadline) {
            sink.done();
            return true;
          }
          std::vector<StoredEvent> events;
          auto result = store_.waitEvents(id, ns, cursor, epoch, events, options_.bookmarkInterval);
          if (result == ObjectStore::WaitResult::kGone) {
            send({{"type", "ERROR"},
                  {"object", statusBody(410, "Expired", "too old resource version")}});
            finished = true;
            return true;
          }
          if (result == ObjectStore::WaitResult::kClosed) {
            sink.done();
            return true;
          }
          for (const StoredEvent& e : events) {
            bool match = labelSel->matches(e.object["metadata"].value("labels", Json())) &&
                         fieldSel->matches(e.object);
            if (!match) continue;
            Json object = table ? toTable(info, {e.object}, "") : e.object;
            if (!send({{"type", e.type}, {"object", object}})) return false;
          }
          if (events.empty() && bookmarks) {
            if (!send({{"type", "BOOKMARK"},
                       {"object", {{"kind", "Bookmark"},
                                   {"metadata", {{"resourceVersion", std::to_string(cursor)}}}}}})) {
              return false;
            }
          }
          return true;
        });
    return;
  }

  if (req.method == "GET") {
    verb = "get";
    auto object = store_.get(id, ns, name);
    if (!object) {
      done(object.error().code);
      return replyFailure(res, object.error());
    }
    done(200);
    if (wantsTable(req.get_header_value("Accept"))) {
      return reply(res, 200, toTable(info, {*object}, (*object)["metadata"].value("resourceVersion", "")));
    }
    return reply(res, 200, *object);
  }

  if (req.method == "DELETE") {
    verb = "delete";
    if (name.empty()) {
      done(405);
      return reply(res, 405, statusBody(405, "MethodNotAllowed", "deletecollection is not supported"));
    }
    auto removed = store_.remove(id, ns, name);
    if (!removed) {
      done(removed.error().code);
      return replyFailure(res, removed.error());
    }
    if (id == "apiextensions.k8s.io/customresourcedefinitions") unregisterCrd(*removed);
    if (id == "/namespaces") {
      std::vector<ResourceInfo> all;
      {
        std::lock_guard lock(mutex_);
        for (const auto& [k, r] : resources_) if (r.namespaced) all.push_back(r);
      }
      for (const auto& r : all) {
        for (const Json& o : store_.list(r.storeId(), name, LabelSelector(), FieldSelector()).items) {
          (void)store_.remove(r.storeId(), name, o["metadata"].value("name", ""));
        }
      }
    }
    done(200);
    return reply(res, 200, *removed);
  }

  // Typed client-go clients (kubectl create service, create token, ...) send protobuf; the lab
  // server reads JSON only and says so (docs/lab.md: differences from kube-apiserver).
  if (std::string type = req.get_header_value("Content-Type");
      req.method != "PATCH" && !type.empty() && type.find("json") == std::string::npos) {
    verb = req.method == "POST" ? "create" : "update";
    done(415);
    return reply(res, 415, statusBody(415, "UnsupportedMediaType",
                                      fmt::format("the lab API server reads JSON request bodies only, not {}", type)));
  }
  Json body = Json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    verb = req.method == "POST" ? "create" : req.method == "PUT" ? "update" : "patch";
    done(400);
    return reply(res, 400, statusBody(400, "BadRequest", "the request body is not a JSON object"));
  }
  bool dryRun = param(req, "dryRun") == "All";
  bool statusOnly = sub == "status";
  // PUT and PATCH end the same way: store, follow CRD changes, answer.
  auto commitUpdate = [&](const Json& object) {
    auto updated = store_.update(id, ns, name, object, info.hasStatus, statusOnly);
    if (!updated) {
      done(updated.error().code);
      return replyFailure(res, updated.error());
    }
    if (id == "apiextensions.k8s.io/customresourcedefinitions") registerCrd(*updated);
    done(200);
    reply(res, 200, *updated);
  };

  if (req.method == "PATCH") {
    verb = "patch";
    auto current = store_.get(id, ns, name);
    if (!current) {
      done(current.error().code);
      return replyFailure(res, current.error());
    }
    std::string type = req.get_header_value("Content-Type");
    Json patched = *current;
    if (type.rfind("application/json-patch+json", 0) == 0) {
      try {
        patched = current->patch(body);
      } catch (const std::exception& e) {
        done(422);
        return reply(res, 422, statusBody(422, "Invalid", e.what()));
      }
    } else if (type.rfind("application/merge-patch+json", 0) == 0) {
      patched.merge_patch(body);
    } else if (type.rfind("application/strategic-merge-patch+json", 0) == 0) {
      patched = applyStrategicMergePatch(*current, body);
    } else {
      done(415);
      return reply(res, 415, statusBody(415, "UnsupportedMediaType",
                                        fmt::format("patch type {} is not supported", type)));
    }
    body = patched;
    if (!body["metadata"].is_object() || body["metadata"].value("name", "") != name) {
      done(422);
      return reply(res, 422, statusBody(422, "Invalid", "metadata.name cannot be changed"));
    }
    if (dryRun) {
      done(200);
      return reply(res, 200, body);
    }
    return commitUpdate(body);
  }

  // POST (create) and PUT (update): apiVersion/kind are the resource's, name must be valid.
  verb = req.method == "POST" ? "create" : "update";
  if (!body["metadata"].is_object()) body["metadata"] = Json::object();
  if (req.method == "POST" && body["metadata"].value("name", "").empty() &&
      !body["metadata"].value("generateName", "").empty()) {
    body["metadata"]["name"] = body["metadata"]["generateName"].get<std::string>() + randomSuffix();
  }
  std::string objectName = body["metadata"].value("name", "");
  if (!validName(objectName)) {
    done(422);
    return reply(res, 422, statusBody(422, "Invalid",
                                      fmt::format("{} \"{}\" is invalid: metadata.name: Invalid value",
                                                  info.kind, objectName)));
  }
  if (req.method == "PUT" && objectName != name) {
    done(400);
    return reply(res, 400, statusBody(400, "BadRequest", "the name of the object does not match the URL"));
  }
  std::string bodyNs = body["metadata"].value("namespace", "");
  if (info.namespaced && !bodyNs.empty() && bodyNs != ns) {
    done(400);
    return reply(res, 400, statusBody(400, "BadRequest", "the namespace of the object does not match the URL"));
  }
  body["apiVersion"] = info.apiVersion();
  body["kind"] = info.kind;
  if (info.namespaced && !store_.get("/namespaces", "", ns)) {
    done(404);
    return reply(res, 404, statusBody(404, "NotFound", fmt::format("namespaces \"{}\" not found", ns)));
  }
  if (dryRun) {
    done(req.method == "POST" ? 201 : 200);
    return reply(res, req.method == "POST" ? 201 : 200, body);
  }
  if (req.method == "POST") {
    if (statusOnly) {
      done(405);
      return reply(res, 405, statusBody(405, "MethodNotAllowed", "create on status"));
    }
    auto created = store_.create(id, ns, body);
    if (!created) {
      done(created.error().code);
      return replyFailure(res, created.error());
    }
    Json result = *created;
    if (id == "apiextensions.k8s.io/customresourcedefinitions") {
      registerCrd(result);
      Json withStatus = result;
      withStatus["status"] = {
          {"conditions",
           {{{"type", "NamesAccepted"}, {"status", "True"}, {"reason", "NoConflicts"}},
            {{"type", "Established"}, {"status", "True"}, {"reason", "InitialNamesAccepted"}}}},
          {"acceptedNames", result["spec"]["names"]},
          {"storedVersions", Json::array()}};
      auto established = store_.update(id, ns, objectName, withStatus, true, true);
      if (established) result = *established;
    }
    done(201);
    return reply(res, 201, result);
  }
  commitUpdate(body);
}

}  // namespace l2a::lab

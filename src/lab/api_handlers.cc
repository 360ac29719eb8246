// The lab API server's per-verb handlers: list, get, delete, create, update, patch, and what
// every write goes through first (admit).
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <mutex>
#include <random>

#include "lab/api_reply.h"
#include "lab/api_server.h"
#include "lab/schema.h"
#include "lab/service_defaults.h"
#include "lab/strategic_merge_patch.h"
#include "lab/table.h"

namespace l2a::lab {

using namespace api;

namespace {

constexpr const char* kCrds = "apiextensions.k8s.io/customresourcedefinitions";

std::string randomSuffix() {
  static std::mutex mutex;
  static std::mt19937 rng{std::random_device{}()};
  static const char* chars = "bcdfghjklmnpqrstvwxz2456789";
  std::lock_guard lock(mutex);
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

constexpr auto kContinueLifetime = std::chrono::seconds(60);
constexpr size_t kContinueKept = 64;

}  // namespace

void ApiServer::list(const ApiRequest& r, const httplib::Request& req, httplib::Response& res) {
  auto selectors = parseSelectors(req);
  if (!selectors) {
    count("list", r.id(), 400);
    return replyFailure(res, selectors.error());
  }
  const auto& [labels, fields] = *selectors;
  std::vector<Json> all;
  uint64_t resourceVersion;
  if (std::string token = param(req, "continue"); !token.empty()) {
    // The rest of an earlier list, as it was then.
    if (token.find('-') == std::string::npos || token.find_first_not_of("0123456789abcdef-") != std::string::npos) {
      count("list", r.id(), 400);
      return reply(res, 400, statusBody(400, "BadRequest", "invalid continue token: continue key is not valid"));
    }
    std::lock_guard lock(mutex_);
    auto it = snapshots_.find(token);
    if (it == snapshots_.end() || std::chrono::steady_clock::now() - it->second.taken > kContinueLifetime) {
      if (it != snapshots_.end()) snapshots_.erase(it);
      count("list", r.id(), 410);
      return reply(res, 410, statusBody(410, "Expired",
                                        "The provided continue parameter is too old to display a consistent list "
                                        "result. You can start a new list without the continue parameter."));
    }
    all = std::move(it->second.rest);
    resourceVersion = it->second.resourceVersion;
    snapshots_.erase(it);
  } else {
    auto result = store_.list(r.id(), r.ns, labels, fields);
    all = std::move(result.items);
    resourceVersion = result.resourceVersion;
  }
  size_t limit = static_cast<size_t>(std::strtoull(param(req, "limit").c_str(), nullptr, 10));
  size_t end = limit > 0 ? std::min(all.size(), limit) : all.size();
  Json items = Json::array();
  for (size_t k = 0; k < end; ++k) {
    // Items of built-in kinds carry no apiVersion and kind in a list; custom objects do.
    if (!r.info.custom) {
      all[k].erase("apiVersion");
      all[k].erase("kind");
    }
    items.push_back(std::move(all[k]));
  }
  Json meta{{"resourceVersion", std::to_string(resourceVersion)}};
  if (end < all.size()) {
    size_t remaining = all.size() - end;
    std::lock_guard lock(mutex_);
    std::string token = fmt::format("{:x}-{:x}", resourceVersion, ++snapshotSerial_);
    snapshots_[token] = {std::vector<Json>(std::make_move_iterator(all.begin() + static_cast<long>(end)),
                                           std::make_move_iterator(all.end())),
                         resourceVersion, std::chrono::steady_clock::now()};
    while (snapshots_.size() > kContinueKept) {
      auto oldest = std::min_element(snapshots_.begin(), snapshots_.end(),
                                     [](const auto& a, const auto& b) { return a.second.taken < b.second.taken; });
      snapshots_.erase(oldest);
    }
    meta["continue"] = token;
    // Only an unfiltered list knows how many remain.
    if (param(req, "labelSelector").empty() && param(req, "fieldSelector").empty()) {
      meta["remainingItemCount"] = remaining;
    }
  }
  count("list", r.id(), 200);
  if (wantsTable(req.get_header_value("Accept"))) {
    Json table = toTable(r.info, items.get<std::vector<Json>>(), meta["resourceVersion"]);
    if (meta.contains("continue")) table["metadata"]["continue"] = meta["continue"];
    return reply(res, 200, table);
  }
  reply(res, 200, {{"kind", r.info.kind + "List"}, {"apiVersion", r.info.apiVersion()}, {"metadata", meta}, {"items", items}});
}

void ApiServer::get(const ApiRequest& r, const httplib::Request& req, httplib::Response& res) {
  auto object = store_.get(r.id(), r.ns, r.name);
  if (!object) {
    count("get", r.id(), object.error().code);
    return replyFailure(res, object.error());
  }
  count("get", r.id(), 200);
  if (wantsTable(req.get_header_value("Accept"))) {
    return reply(res, 200, toTable(r.info, {*object}, (*object)["metadata"].value("resourceVersion", "")));
  }
  reply(res, 200, *object);
}

void ApiServer::remove(const ApiRequest& r, const httplib::Request& req, httplib::Response& res) {
  if (r.name.empty()) {
    count("delete", r.id(), 405);
    return reply(res, 405, statusBody(405, "MethodNotAllowed", "deletecollection is not supported"));
  }
  // DeleteOptions in the body: preconditions.resourceVersion deletes only that version.
  Json options = Json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  std::string expected;
  if (options.is_object() && options.contains("preconditions") && options["preconditions"].is_object()) {
    auto rv = options["preconditions"].value("resourceVersion", Json());
    if (rv.is_string()) expected = rv.get<std::string>();
  }
  auto removed = store_.remove(r.id(), r.ns, r.name, expected);
  if (!removed) {
    count("delete", r.id(), removed.error().code);
    return replyFailure(res, removed.error());
  }
  if (r.id() == kCrds) {
    registry_.removeCrd(*removed);
    store_.removeAll((*removed)["spec"].value("group", "") + "/" + (*removed)["spec"]["names"].value("plural", ""));
  }
  if (r.id() == "/namespaces") {
    for (const ResourceInfo& info : registry_.all()) {
      if (!info.namespaced) continue;
      for (const Json& o : store_.list(info.storeId(), r.name, LabelSelector(), FieldSelector()).items) {
        (void)store_.remove(info.storeId(), r.name, o["metadata"].value("name", ""));
      }
    }
  }
  count("delete", r.id(), 200);
  reply(res, 200, *removed);
}

Result<Json, ApiFailure> ApiServer::admit(const ApiRequest& r, const httplib::Request& req, Json object,
                                          const Json& previous) {
  if (r.id() == "/services") {
    if (r.sub == "status") {
      defaultIngressIpMode(object);
      return object;
    }
    // Caller holds takenMutex_. What every stored Service holds, read in place when a spec
    // changed since.
    uint64_t changes = store_.specChanges("/services");
    if (takenAt_ != changes) {
      taken_ = {};
      store_.forEach("/services", [&](const Json& other) { noteTaken(other, taken_); });
      takenAt_ = changes;
    }
    return defaultService(std::move(object), previous, taken_);
  }
  if (r.id() == kCrds) {
    auto errors = ResourceRegistry::crdErrors(object);
    if (!errors.empty()) {
      std::string joined = errors.size() == 1 ? errors[0] : fmt::format("[{}]", fmt::join(errors, ", "));
      return fail(ApiFailure{422, "Invalid",
                             fmt::format("CustomResourceDefinition.apiextensions.k8s.io \"{}\" is invalid: {}",
                                         object["metadata"].value("name", ""), joined)});
    }
    return object;
  }
  if (!r.info.schema.is_null()) {
    auto removed = prune(object, r.info.schema);
    if (!removed.empty() && param(req, "fieldValidation") == "Strict") {
      std::vector<std::string> quoted;
      for (const auto& path : removed) quoted.push_back(fmt::format("unknown field \"{}\"", path));
      return fail(ApiFailure{400, "BadRequest",
                             fmt::format("{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                                         r.info.kind, r.info.version, r.info.kind, fmt::join(quoted, ", "))});
    }
  }
  return object;
}

void ApiServer::commit(const ApiRequest& r, const httplib::Request& req, Json object, const Json& previous,
                       const std::string& verb, httplib::Response& res) {
  bool created = verb == "create";
  std::unique_lock<std::mutex> servicesLock;
  if (r.id() == "/services" && r.sub != "status") servicesLock = std::unique_lock(takenMutex_);
  auto admitted = admit(r, req, std::move(object), previous);
  if (!admitted) {
    count(verb, r.id(), admitted.error().code);
    return replyFailure(res, admitted.error());
  }
  object = std::move(admitted).value();
  if (param(req, "dryRun") == "All") {
    count(verb, r.id(), created ? 201 : 200);
    return reply(res, created ? 201 : 200, object);
  }
  auto stored = created ? store_.create(r.id(), r.ns, std::move(object), r.info.generation)
                        : store_.update(r.id(), r.ns, r.name, std::move(object), r.info.hasStatus, r.sub == "status",
                                        r.info.generation);
  if (!stored) {
    count(verb, r.id(), stored.error().code);
    return replyFailure(res, stored.error());
  }
  Json result = *stored;
  // Our own create, and no other spec change since what taken_ holds: add it, rather than read
  // them all at the next write. (An update that changed no spec leaves taken_ current; one that
  // did, or anything else, is seen by the count at the next admission.)
  if (servicesLock.owns_lock() && created && takenAt_ && store_.specChanges("/services") == *takenAt_ + 1) {
    noteTaken(result, taken_);
    ++*takenAt_;
  }
  if (r.id() == kCrds) {
    registry_.addCrd(result);
    if (created) {
      Json withStatus = result;
      withStatus["status"] = {
          {"conditions",
           {{{"type", "NamesAccepted"}, {"status", "True"}, {"reason", "NoConflicts"}},
            {{"type", "Established"}, {"status", "True"}, {"reason", "InitialNamesAccepted"}}}},
          {"acceptedNames", result["spec"]["names"]},
          {"storedVersions", Json::array()}};
      auto established = store_.update(r.id(), r.ns, result["metadata"].value("name", ""), withStatus, true, true);
      if (established) result = *established;
    }
  }
  count(verb, r.id(), created ? 201 : 200);
  reply(res, created ? 201 : 200, result);
}

void ApiServer::create(const ApiRequest& r, const httplib::Request& req, Json body, httplib::Response& res) {
  auto refuse = [&](int code, const std::string& reason, const std::string& message) {
    count("create", r.id(), code);
    reply(res, code, statusBody(code, reason, message));
  };
  if (r.sub == "status") return refuse(405, "MethodNotAllowed", "create on status");
  if (!body["metadata"].is_object()) body["metadata"] = Json::object();
  if (body["metadata"].value("name", "").empty() && !body["metadata"].value("generateName", "").empty()) {
    body["metadata"]["name"] = body["metadata"]["generateName"].get<std::string>() + randomSuffix();
  }
  std::string objectName = body["metadata"].value("name", "");
  if (!validName(objectName)) {
    return refuse(422, "Invalid", fmt::format("{} \"{}\" is invalid: metadata.name: Invalid value", r.info.kind, objectName));
  }
  std::string bodyNs = body["metadata"].value("namespace", "");
  if (r.info.namespaced && !bodyNs.empty() && bodyNs != r.ns) {
    return refuse(400, "BadRequest", "the namespace of the object does not match the URL");
  }
  body["apiVersion"] = r.info.apiVersion();
  body["kind"] = r.info.kind;
  if (r.info.namespaced && !store_.get("/namespaces", "", r.ns)) {
    return refuse(404, "NotFound", fmt::format("namespaces \"{}\" not found", r.ns));
  }
  commit(r, req, std::move(body), nullptr, "create", res);
}

void ApiServer::update(const ApiRequest& r, const httplib::Request& req, Json body, httplib::Response& res) {
  auto refuse = [&](int code, const std::string& reason, const std::string& message) {
    count("update", r.id(), code);
    reply(res, code, statusBody(code, reason, message));
  };
  if (!body["metadata"].is_object()) body["metadata"] = Json::object();
  std::string objectName = body["metadata"].value("name", "");
  if (!validName(objectName)) {
    return refuse(422, "Invalid", fmt::format("{} \"{}\" is invalid: metadata.name: Invalid value", r.info.kind, objectName));
  }
  if (objectName != r.name) return refuse(400, "BadRequest", "the name of the object does not match the URL");
  std::string bodyNs = body["metadata"].value("namespace", "");
  if (r.info.namespaced && !bodyNs.empty() && bodyNs != r.ns) {
    return refuse(400, "BadRequest", "the namespace of the object does not match the URL");
  }
  body["apiVersion"] = r.info.apiVersion();
  body["kind"] = r.info.kind;
  auto previous = store_.get(r.id(), r.ns, r.name);
  if (!previous) {
    count("update", r.id(), previous.error().code);
    return replyFailure(res, previous.error());
  }
  commit(r, req, std::move(body), *previous, "update", res);
}

void ApiServer::patch(const ApiRequest& r, const httplib::Request& req, const Json& body, httplib::Response& res) {
  auto refuse = [&](int code, const std::string& reason, const std::string& message) {
    count("patch", r.id(), code);
    reply(res, code, statusBody(code, reason, message));
  };
  auto current = store_.get(r.id(), r.ns, r.name);
  if (!current) {
    count("patch", r.id(), current.error().code);
    return replyFailure(res, current.error());
  }
  std::string type = req.get_header_value("Content-Type");
  Json patched = *current;
  if (type.rfind("application/json-patch+json", 0) == 0) {
    try {
      patched = current->patch(body);
    } catch (const std::exception& e) {
      return refuse(422, "Invalid", e.what());
    }
  } else if (type.rfind("application/merge-patch+json", 0) == 0) {
    patched.merge_patch(body);
  } else if (type.rfind("application/strategic-merge-patch+json", 0) == 0) {
    patched = applyStrategicMergePatch(*current, body);
  } else {
    return refuse(415, "UnsupportedMediaType", fmt::format("patch type {} is not supported", type));
  }
  if (!patched["metadata"].is_object() || patched["metadata"].value("name", "") != r.name) {
    return refuse(422, "Invalid", "metadata.name cannot be changed");
  }
  commit(r, req, std::move(patched), *current, "patch", res);
}

}  // namespace l2a::lab

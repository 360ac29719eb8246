// Client: the Kubernetes REST API over an HttpTransport — CRUD, JSON merge patch, status
// subresource, paged lists, watches — with a client-side rate limit, retries with exponential
// backoff and jitter (connection errors, 429 honouring Retry-After, 5xx), and request counters
// by verb, resource and code. Thread-safe: any number of threads may call it at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <tuple>

#include "common/result.h"
#include "k8s/object_meta.h"
#include "kube/http_transport.h"
#include "kube/resource.h"
#include "kube/token_bucket.h"

namespace l2a::kube {

using Json = nlohmann::json;

// Error codes: not_found, conflict (409, also AlreadyExists), gone (410), invalid (422),
// unauthorized, forbidden, too_many_requests, server (5xx), connection, bad_response, http.
struct ApiErrorCodes {
  static constexpr const char* kNotFound = "not_found";
  static constexpr const char* kConflict = "conflict";
  static constexpr const char* kGone = "gone";
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  int limit = 0;
  std::string continueToken;
  std::string resourceVersion;
};

struct WatchOptions {
  std::string resourceVersion;
  std::string labelSelector;
  std::string fieldSelector;
  int timeoutSeconds = 300;   // the server ends the watch after this; the caller re-watches
  // No byte for this long: a dead link. kube-apiserver sends a bookmark about once a minute on a
  // quiet watch, so this must be longer than that.
  int idleTimeoutSeconds = 90;
  const std::atomic<bool>* abort = nullptr;  // also ends the watch when set (besides `stop`)
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  Json object;
};

struct RequestKey {
  std::string verb;
  std::string resource;
  int code;  // HTTP status; 0 for a connection error
  auto operator<=>(const RequestKey&) const = default;
};

class Client {
 public:
  struct Options {
    double qps = 50;
    int burst = 100;
    int maxRetries = 5;
    std::chrono::milliseconds baseBackoff{100};
    std::chrono::milliseconds maxBackoff{5000};
    // Injected for tests: how to wait, and the clock the rate limit reads.
    std::function<void(std::chrono::steady_clock::duration)> sleep;
    std::function<std::chrono::steady_clock::time_point()> now;
  };

  Client(HttpTransport& transport, Options options);
  explicit Client(HttpTransport& transport) : Client(transport, Options{}) {}

  Result<Json> get(const Resource& r, const std::string& ns, const std::string& name);
  // One page. `items` plus metadata.continue / metadata.resourceVersion as the server sent them.
  Result<Json> list(const Resource& r, const std::string& ns, const ListOptions& options = {});
  // Every page, following continue tokens; resourceVersion is the first page's. A continue
  // token that expired (410) mid-way starts the list over, unpaged.
  Result<Json> listAll(const Resource& r, const std::string& ns, ListOptions options = {});
  // listAll with each item handed to `item` as soon as it is parsed (the whole list never
  // exists as one tree: 10,000 Services would be tens of megabytes at once). `restart` is called
  // when the list starts over (an expired continue token): the items given so far are void.
  // Returns the list's envelope (kind, metadata) without items.
  Result<Json> listEach(const Resource& r, const std::string& ns, ListOptions options,
                        const std::function<void(Json&&)>& item, const std::function<void()>& restart);
  Result<Json> create(const Resource& r, const std::string& ns, const Json& object);
  // PUT with the object's metadata.resourceVersion: a stale one gives "conflict".
  Result<Json> update(const Resource& r, const std::string& ns, const Json& object);
  Result<Json> updateStatus(const Resource& r, const std::string& ns, const Json& object);
  // RFC 7386 JSON merge patch, on the object or a subresource ("status").
  Result<Json> patch(const Resource& r, const std::string& ns, const std::string& name,
                     const Json& mergePatch, const std::string& subresource = "");
  // Strategic merge patch (built-in kinds only): lists with a merge key, such as a Service's
  // status.conditions keyed by type, are merged item by item, not replaced.
  Result<Json> strategicPatch(const Resource& r, const std::string& ns, const std::string& name, const Json& patch,
                              const std::string& subresource = "");
  // With `resourceVersion`, deletes only that version (a 409 conflict when it changed).
  Status<> remove(const Resource& r, const std::string& ns, const std::string& name,
                  const std::string& resourceVersion = "");

  // Streams events to `onEvent` until the server ends the watch, `onEvent` returns false, `stop`
  // is set, or the connection goes silent. A 410 answer comes back as error "gone"; an ERROR
  // event is passed to onEvent like any other.
  Status<> watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                 const std::function<bool(const WatchEvent&)>& onEvent,
                 const std::atomic<bool>& stop);

  std::map<RequestKey, uint64_t> requestCounts() const;
  uint64_t totalRequests() const;
  struct Latency {
    double seconds = 0;
    uint64_t count = 0;
  };
  // Time spent per (verb, resource), retries and waits for the rate limit excluded.
  std::map<std::pair<std::string, std::string>, Latency> requestLatency() const;

 private:
  // `items`: a list's items go there as they are parsed, not into the returned body.
  Result<Json> call(const std::string& verb, const Resource& r, HttpRequest request,
                    const std::function<void(Json&&)>* items = nullptr);
  std::string listTarget(const Resource& r, const std::string& ns, const ListOptions& options) const;
  void count(const std::string& verb, const Resource& r, int code);
  void throttle();
  std::chrono::steady_clock::duration backoff(int attempt);

  HttpTransport& transport_;
  Options options_;
  mutable std::mutex mutex_;
  TokenBucket bucket_;
  std::mt19937_64 random_{std::random_device{}()};
  std::map<RequestKey, uint64_t> counts_;
  std::map<std::pair<std::string, std::string>, Latency> latency_;
};

// Names of objects: k8s/object_meta.h.
using k8s::keyOf;
using k8s::nameOf;
using k8s::namespaceOf;

}  // namespace l2a::kube

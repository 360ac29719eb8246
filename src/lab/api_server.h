// ApiServer: the lab's stand-in for kube-apiserver — the Kubernetes REST API over plain HTTP for
// discovery, core/v1 (Namespaces, Nodes, Services + status, Endpoints, Events),
// discovery.k8s.io/v1 EndpointSlices, coordination.k8s.io/v1 Leases, apiextensions.k8s.io/v1
// CRDs and every custom resource a CRD defines; watches as chunked streams with bookmarks;
// fault injection and request counters under /admin. Where it differs from kube-apiserver is
// listed in docs/lab.md and checked by the differential test. Lab and tests only: never linked
// into l2a. serve() blocks its caller; everything else is safe from any thread.
// Its parts: request parsing and routing (api_server.cc), discovery (api_discovery.cc), the
// per-verb handlers (api_handlers.cc), watch streaming (api_watch.cc), the kinds it serves
// (ResourceRegistry), Service defaulting (service_defaults.h), CRD schemas (schema.h).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "common/result.h"
#include "lab/fault_plan.h"
#include "lab/object_store.h"
#include "lab/resource_registry.h"
#include "lab/service_defaults.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace l2a::lab {

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string dataDirectory;
  size_t historyLimit = 1000;
  // Worker threads: each watch holds one for its lifetime (an agent holds about ten, the
  // operator a dozen), so requests beyond them wait.
  size_t workers = 256;
  // kube-apiserver sends a bookmark on a quiet watch about once a minute.
  std::chrono::milliseconds bookmarkInterval{60000};
};

class ApiServer {
 public:
  explicit ApiServer(ApiServerOptions options);
  ~ApiServer();
  // Loads the data directory and binds; returns the URL clients use.
  Result<std::string> start();
  // Serves until shutdown(); an injected outage stops and restarts the listener in here.
  void serve();
  void shutdown();

 private:
  // A request for a resource, from its path: /api/v1[/namespaces/NS]/PLURAL[/NAME[/SUB]] or
  // /apis/GROUP/VERSION/...
  struct ApiRequest {
    ResourceInfo info;
    std::string ns;
    std::string name;
    std::string sub;  // "" or "status"
    std::string id() const { return info.storeId(); }
  };

  void configure(httplib::Server& server);
  void widenBacklog();
  void route(const httplib::Request& req, httplib::Response& res);
  std::optional<ApiRequest> parse(const httplib::Request& req) const;
  void admin(const httplib::Request& req, httplib::Response& res);
  bool discovery(const httplib::Request& req, httplib::Response& res);
  void list(const ApiRequest& r, const httplib::Request& req, httplib::Response& res);
  void watch(const ApiRequest& r, const httplib::Request& req, httplib::Response& res);
  void get(const ApiRequest& r, const httplib::Request& req, httplib::Response& res);
  void remove(const ApiRequest& r, const httplib::Request& req, httplib::Response& res);
  void create(const ApiRequest& r, const httplib::Request& req, Json body, httplib::Response& res);
  void update(const ApiRequest& r, const httplib::Request& req, Json body, httplib::Response& res);
  void patch(const ApiRequest& r, const httplib::Request& req, const Json& body, httplib::Response& res);
  // What the real server does to an object before storing it: Service defaulting, pruning of
  // what a CRD's schema does not declare (refused instead under fieldValidation=Strict), a CRD's
  // structural-schema check.
  Result<Json, ApiFailure> admit(const ApiRequest& r, const httplib::Request& req, Json object,
                                 const Json& previous);
  // The end of every write (verb: create, update or patch): admit, then store (unless dryRun)
  // and answer with the stored object.
  void commit(const ApiRequest& r, const httplib::Request& req, Json object, const Json& previous,
              const std::string& verb, httplib::Response& res);
  void count(const std::string& verb, const std::string& resource, int code);
  bool injectFault(const std::string& verb, httplib::Response& res);

  ApiServerOptions options_;
  ObjectStore store_;
  // What stored Services hold (cluster IPs, node ports), kept between Service writes and read
  // anew only after a Service spec changed other than by this server's own create (reading every
  // Service on each write made creating or updating 10,000 of them quadratic). Service writes
  // other than status hold takenMutex_ from admission to store.
  std::mutex takenMutex_;
  TakenByServices taken_;
  std::optional<uint64_t> takenAt_;  // store_.specChanges of Services that taken_ is current for
  ResourceRegistry registry_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> stopping_{false};
  int boundPort_ = 0;
  int listening_ = -1;  // the listening socket, for widenBacklog
  static constexpr int kBacklog = 4096;
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> counts_;
  FaultPlan faults_;
  std::chrono::steady_clock::time_point outageUntil_{};
  // Paged lists are consistent, as kube-apiserver's (1.34) are: the rest of a list is kept under
  // its continue token, which expires after a minute or when 64 newer lists are paged.
  struct ListSnapshot {
    std::vector<Json> rest;
    uint64_t resourceVersion;
    std::chrono::steady_clock::time_point taken;
  };
  std::map<std::string, ListSnapshot> snapshots_;  // by continue token, under mutex_
  uint64_t snapshotSerial_ = 0;
};

}  // namespace l2a::lab

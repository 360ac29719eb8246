// ApiServer: the lab's stand-in for kube-apiserver — the Kubernetes REST API over plain HTTP for
// discovery, core/v1 (Namespaces, Nodes, Services + status, Endpoints, Events),
// discovery.k8s.io/v1 EndpointSlices, coordination.k8s.io/v1 Leases, apiextensions.k8s.io/v1
// CRDs and every custom resource a CRD defines; watches as chunked streams with bookmarks;
// fault injection and request counters under /admin. Lab and tests only: never linked into l2a.
// serve() blocks its caller; everything else is safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "common/result.h"
#include "lab/fault_plan.h"
#include "lab/object_store.h"

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace l2a::lab {

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string dataDirectory;
  size_t historyLimit = 1000;
  std::chrono::milliseconds bookmarkInterval{1000};
};

struct ResourceInfo {
  std::string group;
  std::string version;
  std::string plural;
  std::string singular;
  std::string kind;
  bool namespaced = true;
  bool hasStatus = false;
  std::vector<std::string> shortNames;
  Json printerColumns = Json::array();  // additionalPrinterColumns of a CRD
  std::string storeId() const { return group + "/" + plural; }
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
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


  void configure(httplib::Server& server);
  void route(const httplib::Request& req, httplib::Response& res);
  void admin(const httplib::Request& req, httplib::Response& res);
  bool discovery(const httplib::Request& req, httplib::Response& res);
  void registerResource(const ResourceInfo& info);
  void registerCrd(const Json& crd);
  void unregisterCrd(const Json& crd);
  const ResourceInfo* findResource(const std::string& group, const std::string& version,
                                   const std::string& plural) const;
  void count(const std::string& verb, const std::string& resource, int code);
  bool injectFault(const std::string& verb, httplib::Response& res);

  ApiServerOptions options_;
  ObjectStore store_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> stopping_{false};
  int boundPort_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, ResourceInfo> resources_;  // group/version/plural
  std::map<std::tuple<std::string, std::string, int>, uint64_t> counts_;
  FaultPlan faults_;
  std::chrono::steady_clock::time_point outageUntil_{};
};

}  // namespace l2a::lab

// LbIpamController: the LB-IPAM operator's control loop. Informers on Services, Namespaces and
// pools (own kind, Cilium's and MetalLB's once their CRDs are served) feed one reconcile thread that owns the Allocator:
// after every (re)list it first imports the addresses Services already show, then allocates,
// writes Service status (ingress + condition l2announcer.io/IPAMRequestSatisfied), pool status
// and Events — only when something changed.
// Threads: the caller runs each informer (informers()) and run() on threads of its own;
// stats() is safe from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ipam/allocator.h"
#include "ipam/status_patches.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"

namespace l2a::ipam {

struct PoolKind {
  kube::Resource resource;
  std::string group;  // as pool keys name it
  bool optional = false;  // may not be served: followed once its CRD is installed
};

struct ControllerStats {
  uint64_t reconciles = 0;
  uint64_t serviceStatusWrites = 0;
  uint64_t poolStatusWrites = 0;
  uint64_t events = 0;          // Events created or counted on an existing one
  uint64_t eventsDropped = 0;   // rate-limited or over the queue
  uint64_t writeFailures = 0;
  uint64_t writesSkipped = 0;  // not written: leadership lost mid-pass
};

class LbIpamController {
 public:
  // `poolKinds`: which pool resources to follow (see discoverPoolKinds). `mayWrite` is asked
  // before every write: false (leadership lost) and nothing more is written.
  LbIpamController(kube::Client& client, std::vector<PoolKind> poolKinds,
                   std::function<bool()> mayWrite = [] { return true; }, k8s::LoadBalancerClasses classes = {});
  std::vector<kube::Informer*> informers();
  void run(const std::atomic<bool>& stop);
  ControllerStats stats() const;
  bool synced() const;
  struct PoolCounts {
    std::string pool;
    double total;
    double used;
  };
  // Pool counts as of the last reconcile pass (for metrics, from any thread).
  std::vector<PoolCounts> poolStatuses() const;

 private:
  void markAll();
  void importAll();
  ServiceRequest request(const nlohmann::json& service) const;  // with its Namespace's labels
  void reconcileService(const std::string& key);
  void writeServiceStatus(const nlohmann::json& service, const AllocationResult& result);
  void writePoolStatuses();
  bool allowedToWrite();  // mayWrite_(), counting what is skipped
  void event(const nlohmann::json& object, const std::string& type, const std::string& reason,
             const std::string& message);

  kube::Client& client_;
  std::vector<PoolKind> poolKinds_;
  std::function<bool()> mayWrite_;
  k8s::LoadBalancerClasses classes_;
  kube::EventRecorder events_;  // aggregated, rate-limited, sent off this loop's thread
  std::unique_ptr<kube::Informer> services_;
  std::unique_ptr<kube::Informer> namespaces_;
  std::vector<std::unique_ptr<kube::Informer>> pools_;
  Allocator allocator_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::set<std::string> dirty_;
  std::set<std::string> namespacesDirty_;
  bool poolsDirty_ = true;
  bool importPending_ = true;
  ControllerStats stats_;
  std::vector<PoolCounts> poolCounts_;
};

// Pool kinds to follow: l2announcer.io/v1alpha1; metallb.io/v1beta1 IPAddressPool and, with
// `followCilium`, cilium.io (v2 where served, else v2alpha1) as optional kinds — followed once
// their CRDs are installed, with no restart. Any answer but 404 to the Cilium probe (a 403, an
// outage) is an error.
Result<std::vector<PoolKind>> discoverPoolKinds(kube::Client& client, bool followCilium = true);

}  // namespace l2a::ipam

// LbIpamController: the LB-IPAM operator's control loop. Informers on Services and pools (own
// kind, and Cilium's when its CRD is served) feed one reconcile thread that owns the Allocator:
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
  std::vector<std::unique_ptr<kube::Informer>> pools_;
  Allocator allocator_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::set<std::string> dirty_;
  bool poolsDirty_ = true;
  bool importPending_ = true;
  ControllerStats stats_;
  std::vector<PoolCounts> poolCounts_;
};

// Pool kinds the server serves: l2announcer.io/v1alpha1 always; cilium.io (v2, else v2alpha1)
// when that CRD is installed (a 404 says not) and `followCilium`. Any other answer (a 403, an
// outage) is an error.
Result<std::vector<PoolKind>> discoverPoolKinds(kube::Client& client, bool followCilium = true);

}  // namespace l2a::ipam

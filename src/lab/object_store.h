// ObjectStore: the lab API server's objects with Kubernetes semantics — uid, creationTimestamp,
// one cluster-wide monotonic resourceVersion, generation bumped on spec changes, optimistic
// concurrency, status kept apart from spec, and the garbage collector's background deletion: an
// object whose metadata.ownerReferences name only uids that do not exist (its owners deleted, or
// never there) is deleted, at once where kube-controller-manager's collector takes a moment —
// plus the event history watches read (410 Gone once a requested version is older than the
// history kept) and an optional journal on disk, written and flushed before a write is
// acknowledged, replayed on start.
// Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "lab/selector.h"

namespace l2a::lab {

using Json = nlohmann::json;

// A failed request as the API server reports it (metav1.Status).
struct ApiFailure {
  int code;            // HTTP status
  std::string reason;  // NotFound, AlreadyExists, Conflict, Invalid, BadRequest, Expired...
  std::string message;
};

struct StoredEvent {
  uint64_t resourceVersion;
  std::string resource;  // group/plural
  std::string ns;
  std::string type;  // ADDED, MODIFIED, DELETED
  // Shared and never changed: every watch is handed the same event (with 100 watches of one
  // resource, each event's objects were copied 200 times under the store's lock).
  std::shared_ptr<const Json> object;    // as stored by this event (the last state, for DELETED)
  std::shared_ptr<const Json> previous;  // before a MODIFIED event, else null: a watch with a selector needs both
  // What a watch with no selector sends for it, serialized once.
  std::shared_ptr<const std::string> line;
};

// The event a watch with these selectors sees for E: ADDED, MODIFIED or DELETED as the object
// starts, goes on or stops matching (kube-apiserver's watch cache); null when none.
Json watchEvent(const StoredEvent& e, const LabelSelector& labels, const FieldSelector& fields);

class ObjectStore {
 public:
  ObjectStore(size_t historyLimit, std::string dataDirectory);
  ~ObjectStore();
  // Replays the journal (when a data directory was given) and compacts it.
  Status<> load();

  // `resource` is group/plural; `hasStatus` says whether status is a subresource (then a main
  // update keeps the stored status, and a status update changes nothing else);
  // `tracksGeneration` whether metadata.generation is kept (as kube-apiserver does for CRDs,
  // custom objects, Deployments, EndpointSlices; not for Services, Leases, Nodes...).
  Result<Json, ApiFailure> create(const std::string& resource, const std::string& ns, Json object,
                                  bool tracksGeneration = true);
  Result<Json, ApiFailure> get(const std::string& resource, const std::string& ns,
                               const std::string& name) const;
  Result<Json, ApiFailure> update(const std::string& resource, const std::string& ns,
                                  const std::string& name, Json object, bool hasStatus,
                                  bool statusOnly, bool tracksGeneration = true);
  // With `expectedVersion`, only that version (DeleteOptions.preconditions): else a 409.
  Result<Json, ApiFailure> remove(const std::string& resource, const std::string& ns,
                                  const std::string& name, const std::string& expectedVersion = "");
  void removeAll(const std::string& resource);

  struct ListResult {
    std::vector<Json> items;
    uint64_t resourceVersion;
  };
  ListResult list(const std::string& resource, const std::string& ns, const LabelSelector& labels,
                  const FieldSelector& fields) const;
  // Every stored object of `resource`, in place, under the store's lock (visit must not call
  // back into the store).
  void forEach(const std::string& resource, const std::function<void(const Json&)>& visit) const;

  enum class WaitResult { kEvents, kTimeout, kGone, kClosed };
  // Events of `resource` (in `ns`, or every namespace when empty) newer than `cursor`, waiting
  // up to `wait` for some. Advances `cursor` past everything examined.
  WaitResult waitEvents(const std::string& resource, const std::string& ns, uint64_t& cursor,
                        uint64_t watchEpoch, std::vector<StoredEvent>& out,
                        std::chrono::milliseconds wait);
  uint64_t resourceVersion() const;
  // How many writes to `resource` created, deleted or changed the `spec` field of an object (a
  // status or metadata write does not count): what was derived from every stored spec is current
  // while this stays the same.
  uint64_t specChanges(const std::string& resource) const;
  bool tooOld(uint64_t resourceVersion) const;
  uint64_t watchEpoch() const;
  void closeWatches();  // every open watch ends (fault injection)

 private:
  std::string key(const std::string& resource, const std::string& ns, const std::string& name) const;
  Status<> journal(const Json& line);
  void record(const std::string& resource, const std::string& ns, const std::string& type,
              const Json& object, const Json& previous);
  // The garbage collector's indexes: uids that exist, and who names which uid as owner.
  void indexOwners(const std::string& k, const Json& object, bool add);
  // Deletes the object at `it` (journalled, a DELETED event), then what it owned alone; returns
  // it as deleted.
  Result<Json, ApiFailure> erase(std::map<std::string, Json>::iterator it);
  // Deletes the object at `k` when it names owners and none of them exists.
  void collectIfOrphaned(const std::string& k);

  const size_t historyLimit_;
  const std::string dataDirectory_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Json> objects_;  // resource|ns|name
  std::set<std::string> uids_;
  std::multimap<std::string, std::string> dependents_;  // owner uid -> key of an object naming it
  uint64_t resourceVersion_ = 0;
  uint64_t compactedThrough_ = 0;  // events up to this version are no longer in history_
  uint64_t watchEpoch_ = 0;
  std::deque<StoredEvent> history_;
  std::map<std::string, uint64_t> specChanges_;  // resource -> count
  std::FILE* journal_ = nullptr;
};

}  // namespace l2a::lab

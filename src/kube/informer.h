// Informer: a local cache of one resource kept in step with the API server by list-then-watch,
// with add/update/delete handlers. After every relist (start, 410 Gone, watch errors) the new
// list is diffed against the cache, so deletes that happened while not watching are delivered
// too. Lists are served from kube-apiserver's watch cache (resourceVersion "0" at start, else
// the last version seen: never older) except after a 410, when only a consistent read from etcd
// is safe — the cache could hand back a past we already moved beyond. run() blocks the calling thread until `stop`; the cache getters and synced() are safe
// from any thread; handlers run on the run() thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/flat_map.h"
#include "kube/backoff.h"
#include "kube/client.h"

namespace l2a::kube {

struct InformerHandlers {
  std::function<void(const Json&)> onAdd;
  std::function<void(const Json& oldObject, const Json& newObject)> onUpdate;
  std::function<void(const Json&)> onDelete;
  // After each completed (re)list; an optional kind found absent again, as it was, is no change.
  std::function<void()> onSynced;
  // onUpdate does not read its old object: it is handed null, not unpacked from the cache (a
  // decode per event; at 1,000 nodes, 50 Lease renewals a second for every agent).
  bool oldObjectUnused = false;
};

struct InformerStats {
  uint64_t lists = 0;
  uint64_t watches = 0;
  uint64_t gone = 0;  // 410s: history too old, relisted
  uint64_t events = 0;
  uint64_t bookmarks = 0;
};

class Informer {
 public:
  struct Options {
    std::string labelSelector;
    std::string fieldSelector;
    int pageSize = 500;
    int watchTimeoutSeconds = 300;
    int idleTimeoutSeconds = 90;  // > kube-apiserver's bookmark period (about 60 s)
    // Between failed lists and watches: client-go's reflector backoff (800 ms doubling to 30 s,
    // jittered); a failed watch that ended in an ERROR event waits too (no list/watch/ERROR loop).
    Backoff::Options retryBackoff{};
    // Applied to every object before it is cached or handed to a handler (client-go's
    // TransformFunc): keep only what the consumer reads. With one, an update that leaves the
    // kept part as it was (but for metadata.resourceVersion) calls no handler.
    std::function<Json(const Json&)> transform;
    // For a consumer that keeps what it reads in a form of its own (the agent's index of
    // Services and slices): the cache keeps each object's resourceVersion only (a relist diffs by
    // it), not the object. Handlers get the whole kept object, but for the old object of an update
    // (null) and a delete a relist found (a stub: apiVersion, kind, name, namespace,
    // resourceVersion); get(), items() and forEach() give stubs. Every new resourceVersion calls
    // a handler (the consumer tells what changed).
    bool versionsOnly = false;
    // A kind that may not be served (an optional CRD: Cilium's, MetalLB's). While the API server
    // answers 404 the informer holds nothing, counts as synced and lists again every
    // `absentRetry`: a CRD installed later is followed with no restart; one removed empties the
    // cache (delete handlers run).
    bool optional = false;
    std::chrono::milliseconds absentRetry{30000};
  };

  Informer(Client& client, Resource resource, std::string ns, InformerHandlers handlers,
           Options options);
  Informer(Client& client, Resource resource, std::string ns, InformerHandlers handlers)
      : Informer(client, std::move(resource), std::move(ns), std::move(handlers), Options{}) {}

  void run(const std::atomic<bool>& stop);
  // Drops the current watch and lists again (from any thread): for a caller that knows its
  // connection may have been silently stale, e.g. after a network partition healed.
  void relistNow();

  bool synced() const { return synced_.load(); }
  // False while an optional kind is not served (404).
  bool served() const { return served_.load(); }
  std::vector<Json> items() const;
  // Each cached object in turn, unpacked one at a time outside the lock (thousands of objects
  // never exist as trees at once): what a planner reading everything should use.
  void forEach(const std::function<void(const Json&)>& visit) const;
  std::optional<Json> get(const std::string& key) const;
  bool contains(const std::string& key) const;
  size_t size() const;
  std::string resourceVersion() const;
  InformerStats stats() const;
  // Why the last list or watch failed ("" once one succeeded since): a 403 names the missing
  // permission, as the API server words it.
  std::string lastError() const;

 private:
  // `consistent`: a quorum read (after 410: what we saw is gone); else not older than what we
  // last saw, which kube-apiserver serves from its watch cache.
  Status<> relist(bool consistent);
  // An optional kind the API server does not serve: nothing cached, synced.
  void absent();
  // One cached object: its resourceVersion and, packed, what was kept without it (MessagePack:
  // about a fifth of nlohmann::json's tree of the same object, docs/benchmarks.md) — shared, so
  // a snapshot under the lock copies a pointer; none with `versionsOnly`.
  // The resourceVersion is held as a number: kube-apiserver's are decimal (etcd revisions), kept
  // as their value and written back the same; any other string as a 64-bit hash with the top
  // bit set, only ever compared (a packed object keeps that string in its bytes). 0: none. A
  // string would take 32 bytes more per object (30,000 cached by an agent at 10,000 Services).
  struct Entry {
    uint64_t version = 0;
    std::shared_ptr<const std::string> bytes;
  };
  static uint64_t versionOf(const std::string& resourceVersion);
  // Whether `version` is a decimal resourceVersion's value (written back as its digits).
  static bool decimal(uint64_t version) { return version != 0 && (version >> 63) == 0; }

  // The cached objects by key: a FlatMap, 56 bytes an object where a std::map node took 128
  // (30,000 objects in an agent at 10,000 Services).
  using Cache = common::FlatMap<std::string, Entry>;

  void apply(const WatchEvent& event);
  // With a transform, whether two kept objects differ in more than their resourceVersion.
  bool sameKeptPart(const Entry& a, const Entry& b) const {
    return options_.transform && a.bytes && b.bytes && *a.bytes == *b.bytes;
  }
  Json kept(Json object) const;
  // What is cached of a kept object.
  Entry cached(const Json& kept) const {
    return options_.versionsOnly ? Entry{versionOf(resourceVersionOf(kept)), nullptr} : pack(kept);
  }
  static std::string resourceVersionOf(const Json& object);
  static Entry pack(Json kept);
  // The object again; with `versionsOnly`, the stub KEY names.
  Json unpack(const std::string& key, const Entry& entry) const;
  // What onUpdate is handed of the old object.
  Json old(const std::string& key, const Entry& entry) const {
    return handlers_.oldObjectUnused || options_.versionsOnly ? Json() : unpack(key, entry);
  }

  Client& client_;
  const Resource resource_;
  const std::string namespace_;
  InformerHandlers handlers_;
  const Options options_;
  mutable std::mutex mutex_;
  Cache cache_;
  std::string resourceVersion_;
  InformerStats stats_;
  std::string lastError_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> served_{true};
  std::atomic<bool> relist_{false};
};

}  // namespace l2a::kube

// AnnouncementStatus: the I/O side of announcement_records.h. Writes this node's L2Announcement
// records and the Service conditions it is the writer of, on a thread of its own with a rate
// limit of its own (the caller's client), so no reconcile and no Lease renewal waits on these
// writes; a failed write is tried again at the next pass (every second, or on change). Reads
// every node's records back through an informer, started once the CRD is served and looked
// for again every 30 s while it is not (installed after the agent started: no restart).
// Threads: run() on a thread of its own; the rest from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>
#include <thread>
#include <utility>

#include "agent/announcement_records.h"
#include "common/flat_map.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace l2a::agent {

inline const kube::Resource kL2Announcements{"l2announcer.io", "v1alpha1", "l2announcements", true, "L2Announcement"};

struct AnnouncementStatusStats {
  bool served = false;  // the CRD is installed
  uint64_t recordsWritten = 0, recordsDeleted = 0, conditionsWritten = 0, failures = 0;
  uint64_t comparisons = 0;  // times the records were compared with what is wanted
};

class AnnouncementStatus {
 public:
  // `reader` feeds the informer, `writer` writes. `changed` is called (no lock held) when the
  // holders the records name change.
  // Every `fullPass` the records are compared even with nothing new (failed writes are tried
  // again), unless nothing changed since a comparison that found them as wanted.
  AnnouncementStatus(kube::Client& reader, kube::Client& writer, std::string node, std::function<void()> changed,
                     std::chrono::milliseconds fullPass = std::chrono::seconds(10));
  ~AnnouncementStatus();

  // The records this node wants now; the rest naming it go.
  void setRecords(DesiredRecords desired);
  // Nothing written or deleted until the next setRecords (the caller is frozen).
  void holdRecords();
  // A Service's condition patch (announcement_records.h); the latest per Service is written.
  void writeCondition(const std::string& serviceKey, nlohmann::json patch);
  // Address -> the nodes every node's records name (empty while the CRD is not served).
  std::map<std::string, std::set<std::string>> holders() const;
  // Changes whenever holders() may have changed a plan: a record that names the owner the last
  // plan chose for its address (setPlannedOwners) does not count — at 10,000 Services, the
  // records written after a start or a mass take-over would otherwise re-plan every agent
  // thousands of times. One noted so but naming another owner in the next plan counts then.
  uint64_t generation() const { return generation_.load(); }
  // Address -> owner, as the caller's last plan has it (shared, not copied).
  using PlannedOwners = common::FlatMap<std::string, std::string>;  // address -> node
  void setPlannedOwners(std::shared_ptr<const PlannedOwners> owners);
  // Whether the records have been read (or the CRD is known not to be served): before that,
  // a node that just started does not know who holds what.
  bool ready() const { return ready_.load(); }
  void run(const std::atomic<bool>& stop);
  AnnouncementStatusStats stats() const;

 private:
  // `full`: compare the records even when nothing said they changed (failed writes, drift).
  void pass(bool full);
  bool served(bool& logged);

  kube::Client& reader_;
  kube::Client& writer_;
  const std::string node_;
  std::function<void()> changed_;
  const std::chrono::milliseconds fullPass_;
  std::unique_ptr<kube::Informer> records_;
  std::atomic<bool> stopInformer_{false};
  std::thread informerThread_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> ready_{false};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool dirty_ = false;
  // Counts what may change the records' writes (a new want, a record of ours changed): a pass
  // writing conditions stops for it.
  std::atomic<uint64_t> recordsWish_{0};
  bool recordsWanted_ = false;  // setRecords called: before, nothing of ours is deleted
  // Shared with a pass in progress (no copy of thousands of records per pass).
  std::shared_ptr<const DesiredRecords> desired_ = std::make_shared<const DesiredRecords>();
  std::map<std::string, std::string> conditions_;  // service key -> patch (JSON text), not yet written
  HeldRecords held_;  // every record cached, by key
  std::shared_ptr<const PlannedOwners> planned_;
  // The last comparison (writer thread only): against which desired records, at which count of
  // the informer's lists and events, and whether it found everything as wanted. A full pass
  // that would compare the same again is skipped (at rest, every 10 s, 10,000 records).
  std::shared_ptr<const DesiredRecords> comparedDesired_;
  uint64_t comparedChanges_ = 0;
  bool comparedClean_ = false;
  // Records that changed held_ without counting (they named the planned owner), marked there:
  // how many were marked since the last plan. (A list of them held a megabyte at rest, 10,000
  // Services: the others' records written after the last plan.)
  size_t uncounted_ = 0;
  AnnouncementStatusStats stats_;
};

}  // namespace l2a::agent

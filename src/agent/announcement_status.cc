#include "agent/announcement_status.h"

#include <spdlog/spdlog.h>

#include "agent/announcement_records.h"
#include "k8s/object_meta.h"
#include "k8s/projection.h"
#include "kube/resource.h"

namespace l2a::agent {
namespace {

using Json = nlohmann::json;
using Steady = std::chrono::steady_clock;

constexpr auto kLookAgain = std::chrono::seconds(30);   // for the CRD, while it is not served
constexpr auto kReadyAnyway = std::chrono::seconds(10); // records unreadable: start without them

std::pair<std::string, std::string> split(const std::string& key) {
  auto slash = key.find('/');
  return {key.substr(0, slash), slash == std::string::npos ? key : key.substr(slash + 1)};
}

}  // namespace

AnnouncementStatus::AnnouncementStatus(kube::Client& reader, kube::Client& writer, std::string node,
                                       std::function<void()> changed, std::chrono::milliseconds fullPass)
    : reader_(reader), writer_(writer), node_(std::move(node)), changed_(std::move(changed)), fullPass_(fullPass) {}

AnnouncementStatus::~AnnouncementStatus() {
  stopInformer_ = true;
  if (informerThread_.joinable()) informerThread_.join();
}

void AnnouncementStatus::setRecords(DesiredRecords desired) {
  std::lock_guard lock(mutex_);
  if (recordsWanted_ && desired == *desired_) return;
  desired_ = std::make_shared<const DesiredRecords>(std::move(desired));
  recordsWanted_ = true;
  dirty_ = true;
  ++recordsWish_;
  wake_.notify_one();
}

void AnnouncementStatus::holdRecords() {
  std::lock_guard lock(mutex_);
  recordsWanted_ = false;
}

void AnnouncementStatus::writeCondition(const std::string& serviceKey, Json patch) {
  std::lock_guard lock(mutex_);
  // As text: at 10,000 Services thousands wait for the write rate limit, a tree each otherwise.
  conditions_[serviceKey] = patch.dump();
  dirty_ = true;
  wake_.notify_one();
}

std::map<std::string, std::set<std::string>> AnnouncementStatus::holders() const {
  std::map<std::string, std::set<std::string>> out;
  std::lock_guard lock(mutex_);
  for (const auto& [key, held] : held_) {
    if (!held.address.empty() && !held.node.empty()) out[held.address].insert(held.node);
  }
  return out;
}

AnnouncementStatusStats AnnouncementStatus::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool AnnouncementStatus::served(bool& logged) {
  auto listed = reader_.list(kL2Announcements, "", {.limit = 1});
  if (listed) return true;
  if (!logged) {
    // An older install without the CRD (or without the permission): announcing goes on, only
    // the records are not written; looked for again every 30 s.
    spdlog::warn("event=announcement_records_off node={} reason=\"{}\" note=\"looking again every 30 s\"", node_,
                 listed.error().code == kube::ApiErrorCodes::kNotFound
                     ? "the CRD l2announcements.l2announcer.io is not installed"
                     : listed.error().message);
    logged = true;
  }
  return false;
}

void AnnouncementStatus::setPlannedOwners(std::shared_ptr<const PlannedOwners> owners) {
  bool differs = false;
  {
    std::lock_guard lock(mutex_);
    planned_ = std::move(owners);
    // The records noted without counting since the last plan: does this one differ?
    if (std::exchange(uncounted_, 0) > 0) {
      for (auto& [key, held] : held_) {
        if (!std::exchange(held.uncounted, false)) continue;
        auto owner = planned_->find(held.address);
        differs = differs || owner == planned_->end() || owner->second != held.node;
      }
    }
  }
  if (differs) {
    ++generation_;
    if (changed_) changed_();
  }
}

void AnnouncementStatus::run(const std::atomic<bool>& stop) {
  bool logged = false;
  auto started = Steady::now();
  auto lookAgain = started;
  auto fullPass = started;
  while (!stop.load()) {
    auto now = Steady::now();
    if (!records_ && now >= lookAgain) {
      if (served(logged)) {
        spdlog::info("event=announcement_records_on node={}", node_);
        auto noted = [this](const Json& record, bool gone) {
          std::string key = k8s::keyOf(record);
          HeldRecord held = heldRecord(record, node_);
          bool differs = false;
          {
            std::lock_guard lock(mutex_);
            auto it = held_.find(key);
            auto plannedOwner = [&]() -> const std::string* {
              if (!planned_) return nullptr;
              auto owner = planned_->find(held.address);
              return owner == planned_->end() ? nullptr : &owner->second;
            };
            // Ours changed under us (another node took it over, someone deleted it): compare.
            if (held.node == node_ || (it != held_.end() && it->second.node == node_)) {
              dirty_ = true;
              ++recordsWish_;
              wake_.notify_one();
            }
            bool holder = !held.address.empty() && !held.node.empty();
            bool wasHolder = it != held_.end() && !it->second.address.empty() && !it->second.node.empty();
            if (gone) {
              differs = wasHolder;
              if (it != held_.end()) held_.erase(it);
            } else if (!holder) {
              differs = wasHolder;
              held_[key] = std::move(held);  // names no holder; one of ours is still deleted
            } else if (!wasHolder || it->second.address != held.address || it->second.node != held.node) {
              const std::string* owner = plannedOwner();
              differs = owner == nullptr || *owner != held.node;
              held.uncounted = !differs;
              if (held.uncounted) ++uncounted_;
              held_[key] = std::move(held);
            } else {
              held.uncounted = it->second.uncounted;
              it->second = std::move(held);  // a new resourceVersion, or what it says of ours
            }
          }
          if (differs) {
            ++generation_;
            if (changed_) changed_();
          }
        };
        records_ = std::make_unique<kube::Informer>(
            reader_, kL2Announcements, "",
            kube::InformerHandlers{.onAdd = [noted](const Json& r) { noted(r, false); },
                                   .onUpdate = [noted](const Json&, const Json& r) { noted(r, false); },
                                   .onDelete = [noted](const Json& r) { noted(r, true); },
                                   .oldObjectUnused = true},
            // What a record says is kept in held_ (heldRecord): the cache, resourceVersions only.
            kube::Informer::Options{.versionsOnly = true});
        informerThread_ = std::thread([this] { records_->run(stopInformer_); });
      } else {
        lookAgain = now + kLookAgain;
        ready_ = true;  // nothing to read: what the wire says is all there is
      }
    }
    if ((records_ && records_->synced()) || now - started > kReadyAnyway) ready_ = true;
    bool full = now >= fullPass;
    if (full) fullPass = now + fullPass_;
    pass(full);
    // Failed writes are tried again at the next full pass, not in a loop.
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::seconds(1), [&] { return dirty_ || stop.load(); });
  }
  stopInformer_ = true;
  if (informerThread_.joinable()) informerThread_.join();
}

void AnnouncementStatus::pass(bool full) {
  std::map<std::string, std::string> conditions;
  std::shared_ptr<const DesiredRecords> desired;
  bool wanted = false, dirty = false;
  uint64_t wish = recordsWish_.load();
  {
    std::lock_guard lock(mutex_);
    conditions.swap(conditions_);
    dirty = std::exchange(dirty_, false);
    wanted = recordsWanted_;
    if (wanted && (dirty || full)) desired = desired_;
  }
  uint64_t written = 0, deleted = 0, conditionsWritten = 0, failures = 0, comparisons = 0;
  // Only once this node has said what it wants (its first plan) and the records are read:
  // a node just started must not delete what it is about to claim again.
  // A full pass with nothing new since a comparison that found everything as wanted would
  // find the same.
  auto changes = [&] {
    kube::InformerStats s = records_->stats();
    return s.lists + s.events;
  };
  bool same = !dirty && comparedClean_ && desired == comparedDesired_ && records_ && changes() == comparedChanges_;
  if (wanted && (dirty || full) && !same && records_ && records_->synced()) {
    uint64_t changesBefore = changes();
    RecordWrites writes;
    {
      // The records as held against what is wanted: hashes compared, nothing unpacked.
      std::lock_guard lock(mutex_);
      writes = recordWrites(*desired, held_, node_);
    }
    comparedDesired_ = desired;
    comparedChanges_ = changesBefore;
    comparedClean_ = writes.apply.empty() && writes.remove.empty();
    ++comparisons;
    // The writes wait for the rate limit (thousands after a take-over: minutes), and what is
    // wanted changes meanwhile. Each is made only while it is still wanted as it was (a record
    // written from an old plan names this node the holder of what it handed over, and the new
    // owner, believing it, hands it back: nobody answers), and a pass overtaken by a newer want
    // ends after its write, so the next starts from what is wanted now — deletions first: a
    // record of ours nobody wants keeps another node from taking the address.
    auto wantedNow = [&]() -> std::shared_ptr<const DesiredRecords> {
      std::lock_guard lock(mutex_);
      return recordsWanted_ ? desired_ : nullptr;
    };
    bool overtaken = false;
    for (const auto& [key, version] : writes.remove) {
      auto now = wantedNow();
      if (now != desired) overtaken = true;
      if (!now || now->count(key)) break;
      auto [ns, name] = split(key);
      auto r = writer_.remove(kL2Announcements, ns, name, version);
      // Gone already, or changed since (taken over by another node): nothing of ours to delete.
      if (r || r.error().code == kube::ApiErrorCodes::kNotFound || r.error().code == kube::ApiErrorCodes::kConflict) {
        ++deleted;
      } else {
        ++failures;
        spdlog::warn("event=announcement_record_failed record={} error=\"{}\"", key, r.error().message);
      }
      if (overtaken) break;
    }
    for (const std::string& key : writes.apply) {
      if (overtaken) break;
      auto now = wantedNow();
      if (now != desired) overtaken = true;
      auto wantedThen = desired->find(key);
      auto still = now ? now->find(key) : DesiredRecords::const_iterator{};
      if (!now || still == now->end() || still->second.meaning != wantedThen->second.meaning) break;
      Json object = still->second.record(node_);
      if (!object.is_object()) continue;  // wanted without a claim: cannot happen
      auto [ns, name] = split(key);
      Json patch{{"metadata", {{"labels", object["metadata"]["labels"]}}}, {"status", object["status"]}};
      if (object["metadata"].contains("ownerReferences")) patch["metadata"]["ownerReferences"] = object["metadata"]["ownerReferences"];
      // One request for most: created when none is cached, patched when one is. Created
      // meanwhile by another node (409): ours now, so patch it; gone meanwhile (404): create it.
      bool cached = records_->contains(key);
      auto r = cached ? writer_.patch(kL2Announcements, ns, name, patch) : writer_.create(kL2Announcements, ns, object);
      if (!r && cached && r.error().code == kube::ApiErrorCodes::kNotFound) {
        r = writer_.create(kL2Announcements, ns, object);
        if (!r && r.error().code == kube::ApiErrorCodes::kConflict) r = writer_.patch(kL2Announcements, ns, name, patch);
      } else if (!r && !cached && r.error().code == kube::ApiErrorCodes::kConflict) {
        r = writer_.patch(kL2Announcements, ns, name, patch);
      }
      if (r) {
        ++written;
      } else {
        ++failures;
        spdlog::warn("event=announcement_record_failed record={} error=\"{}\"", key, r.error().message);
      }
    }
  }
  // The conditions after the records (they say who announces; the records decide it), and
  // only until something new is wanted of the records: thousands of them after a take-over
  // would hold the records' writes back for minutes. What is left waits for the next pass.
  std::map<std::string, std::string> retry;
  bool yielded = false;
  for (auto it = conditions.begin(); it != conditions.end(); ++it) {
    auto& [key, patch] = *it;
    if (it != conditions.begin() && recordsWish_.load() != wish) {
      retry.insert(std::make_move_iterator(it), std::make_move_iterator(conditions.end()));
      yielded = true;
      break;
    }
    auto [ns, name] = split(key);
    auto r = writer_.strategicPatch(kube::resources::kServices, ns, name, Json::parse(patch, nullptr, false), "status");
    if (r) {
      ++conditionsWritten;
    } else if (r.error().code != kube::ApiErrorCodes::kNotFound) {
      ++failures;
      spdlog::warn("event=service_condition_failed service={} error=\"{}\"", key, r.error().message);
      retry[key] = std::move(patch);
    }
  }
  std::lock_guard lock(mutex_);
  for (auto& [key, patch] : retry) conditions_.try_emplace(key, std::move(patch));  // a newer one wins
  if (yielded) dirty_ = true;  // the records now, then the rest at once (not in a second)
  stats_.recordsWritten += written;
  stats_.recordsDeleted += deleted;
  stats_.conditionsWritten += conditionsWritten;
  stats_.failures += failures;
  stats_.comparisons += comparisons;
  stats_.served = records_ != nullptr;
}

}  // namespace l2a::agent

#include "lab/object_store.h"

#include "common/timestamps.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

namespace l2a::lab {
namespace {

// An object's `spec` field, read in place (null when there is none).
const Json& specField(const Json& object) {
  static const Json kNone;
  if (!object.is_object()) return kNone;
  auto it = object.find("spec");
  return it == object.end() ? kNone : *it;
}

std::string newUid() {
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                     a & 0xfff, (b >> 48) | 0x8000, b & 0xffffffffffffULL);
}

// Everything but metadata and status: what a change of bumps metadata.generation.
Json specOf(const Json& object) {
  Json spec = object;
  spec.erase("metadata");
  spec.erase("status");
  spec.erase("apiVersion");
  spec.erase("kind");
  return spec;
}

std::string uidOf(const Json& object) {
  Json uid = object.value("/metadata/uid"_json_pointer, Json());
  return uid.is_string() ? uid.get<std::string>() : "";
}

// The uids an object names in metadata.ownerReferences (entries without a string uid skipped).
std::vector<std::string> ownerUids(const Json& object) {
  std::vector<std::string> uids;
  Json refs = object.value("/metadata/ownerReferences"_json_pointer, Json());
  if (!refs.is_array()) return uids;
  for (const Json& ref : refs) {
    Json uid = ref.is_object() ? ref.value("uid", Json()) : Json();
    if (uid.is_string() && !uid.get<std::string>().empty()) uids.push_back(uid.get<std::string>());
  }
  return uids;
}

ApiFailure notFound(const std::string& resource, const std::string& name) {
  std::string plural = resource.substr(resource.find('/') + 1);
  return {404, "NotFound", fmt::format("{} \"{}\" not found", plural, name)};
}

}  // namespace

ObjectStore::ObjectStore(size_t historyLimit, std::string dataDirectory)
    : historyLimit_(historyLimit), dataDirectory_(std::move(dataDirectory)) {}

ObjectStore::~ObjectStore() {
  if (journal_ != nullptr) std::fclose(journal_);
}

std::string ObjectStore::key(const std::string& resource, const std::string& ns,
                             const std::string& name) const {
  return resource + "|" + ns + "|" + name;
}

Status<> ObjectStore::load() {
  if (dataDirectory_.empty()) return Ok{};
  std::filesystem::create_directories(dataDirectory_);
  std::string path = dataDirectory_ + "/journal.jsonl";
  {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      Json entry = Json::parse(line, nullptr, false);
      if (!entry.is_object()) continue;  // a torn last line from a crash: never acknowledged
      uint64_t rv = entry.value("rv", uint64_t{0});
      resourceVersion_ = std::max(resourceVersion_, rv);
      std::string op = entry.value("op", "");
      std::string k = entry.value("key", "");
      if (op == "put") objects_[k] = entry["object"];
      if (op == "delete") objects_.erase(k);
    }
  }
  for (const auto& [k, object] : objects_) indexOwners(k, object, true);
  compactedThrough_ = resourceVersion_;  // no history survives a restart: older watches get 410
  // Compact: one line per live object, then keep appending.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << Json{{"op", "rv"}, {"rv", resourceVersion_}}.dump() << "\n";
    for (const auto& [k, object] : objects_) {
      out << Json{{"op", "put"}, {"rv", resourceVersion_}, {"key", k}, {"object", object}}.dump() << "\n";
    }
    if (!out) return fail("journal", fmt::format("cannot write {}", tmp));
  }
  std::filesystem::rename(tmp, path);
  journal_ = std::fopen(path.c_str(), "a");
  if (journal_ == nullptr) return fail("journal", fmt::format("cannot open {}", path));
  return Ok{};
}

Status<> ObjectStore::journal(const Json& line) {
  if (journal_ == nullptr) return Ok{};
  std::string text = line.dump() + "\n";
  if (std::fwrite(text.data(), 1, text.size(), journal_) != text.size() || std::fflush(journal_) != 0 ||
      fdatasync(fileno(journal_)) != 0) {
    return fail("journal", "journal write failed");
  }
  return Ok{};
}

Json watchEvent(const StoredEvent& e, const LabelSelector& labels, const FieldSelector& fields) {
  // Any shape: a missing or wrong-typed metadata is no labels, never an exception.
  static const Json::json_pointer kLabels("/metadata/labels");
  auto matches = [&](const Json& o) {
    return o.is_object() && labels.matches(o.value(kLabels, Json())) && fields.matches(o);
  };
  bool now = e.type != "DELETED" && matches(*e.object);
  bool before = e.type == "DELETED" ? matches(*e.object) : matches(*e.previous);
  if (now && !before) return {{"type", "ADDED"}, {"object", *e.object}};
  if (now && before) return {{"type", "MODIFIED"}, {"object", *e.object}};
  if (!now && before) {
    // What the watcher last saw, at this event's version.
    Json last = e.type == "DELETED" ? *e.object : *e.previous;
    last["metadata"]["resourceVersion"] = std::to_string(e.resourceVersion);
    return {{"type", "DELETED"}, {"object", last}};
  }
  return nullptr;
}

void ObjectStore::record(const std::string& resource, const std::string& ns, const std::string& type,
                         const Json& object, const Json& previous) {
  if (type != "MODIFIED" || specField(object) != specField(previous)) ++specChanges_[resource];
  StoredEvent event{resourceVersion_, resource, ns, type, std::make_shared<const Json>(object),
                    std::make_shared<const Json>(previous), nullptr};
  event.line = std::make_shared<const std::string>(watchEvent(event, LabelSelector{}, FieldSelector{}).dump() + "\n");
  history_.push_back(std::move(event));
  while (history_.size() > historyLimit_) {
    compactedThrough_ = history_.front().resourceVersion;
    history_.pop_front();
  }
  changed_.notify_all();
}

Result<Json, ApiFailure> ObjectStore::create(const std::string& resource, const std::string& ns,
                                             Json object, bool tracksGeneration) {
  std::lock_guard lock(mutex_);
  std::string name = object["metadata"].value("name", "");
  std::string k = key(resource, ns, name);
  if (objects_.count(k)) {
    std::string plural = resource.substr(resource.find('/') + 1);
    return fail(ApiFailure{409, "AlreadyExists", fmt::format("{} \"{}\" already exists", plural, name)});
  }
  auto& meta = object["metadata"];
  meta["uid"] = newUid();
  meta["creationTimestamp"] = common::rfc3339();
  meta["resourceVersion"] = std::to_string(++resourceVersion_);
  if (tracksGeneration) meta["generation"] = 1; else meta.erase("generation");
  if (!ns.empty()) meta["namespace"] = ns;
  if (auto s = journal({{"op", "put"}, {"rv", resourceVersion_}, {"key", k}, {"object", object}}); !s) {
    return fail(ApiFailure{500, "InternalError", s.error().message});
  }
  objects_[k] = object;
  record(resource, ns, "ADDED", object, nullptr);
  indexOwners(k, object, true);
  collectIfOrphaned(k);
  return object;
}

Result<Json, ApiFailure> ObjectStore::get(const std::string& resource, const std::string& ns,
                                          const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = objects_.find(key(resource, ns, name));
  if (it == objects_.end()) return fail(notFound(resource, name));
  return it->second;
}

Result<Json, ApiFailure> ObjectStore::update(const std::string& resource, const std::string& ns,
                                             const std::string& name, Json object, bool hasStatus,
                                             bool statusOnly, bool tracksGeneration) {
  std::lock_guard lock(mutex_);
  std::string k = key(resource, ns, name);
  auto it = objects_.find(k);
  if (it == objects_.end()) return fail(notFound(resource, name));
  const Json& stored = it->second;
  std::string sent = object["metadata"].value("resourceVersion", "");
  std::string current = stored["metadata"].value("resourceVersion", "");
  if (!sent.empty() && sent != current) {
    std::string plural = resource.substr(resource.find('/') + 1);
    return fail(ApiFailure{409, "Conflict",
                           fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has "
                                       "been modified; please apply your changes to the latest "
                                       "version and try again",
                                       plural, name)});
  }
  Json next;
  if (statusOnly) {
    next = stored;
    if (object.contains("status")) next["status"] = object["status"]; else next.erase("status");
  } else {
    next = object;
    if (hasStatus) {
      if (stored.contains("status")) next["status"] = stored["status"]; else next.erase("status");
    }
    // Immutable and server-owned metadata.
    for (const char* field : {"uid", "creationTimestamp", "namespace", "name"}) {
      if (stored["metadata"].contains(field)) next["metadata"][field] = stored["metadata"][field];
    }
    if (tracksGeneration) {
      int64_t generation = stored["metadata"].value("generation", int64_t{1});
      next["metadata"]["generation"] = specOf(next) != specOf(stored) ? generation + 1 : generation;
    } else {
      next["metadata"].erase("generation");
    }
  }
  if (next == stored) return stored;  // a no-op write does not bump the version
  next["metadata"]["resourceVersion"] = std::to_string(++resourceVersion_);
  if (auto s = journal({{"op", "put"}, {"rv", resourceVersion_}, {"key", k}, {"object", next}}); !s) {
    return fail(ApiFailure{500, "InternalError", s.error().message});
  }
  indexOwners(k, it->second, false);
  Json previous = std::move(it->second);
  it->second = next;
  record(resource, ns, "MODIFIED", next, previous);
  indexOwners(k, next, true);
  collectIfOrphaned(k);
  return next;
}

void ObjectStore::indexOwners(const std::string& k, const Json& object, bool add) {
  if (std::string uid = uidOf(object); !uid.empty()) {
    if (add) uids_.insert(uid); else uids_.erase(uid);
  }
  for (const std::string& owner : ownerUids(object)) {
    if (add) {
      dependents_.emplace(owner, k);
      continue;
    }
    auto [first, last] = dependents_.equal_range(owner);
    auto named = std::find_if(first, last, [&](const auto& entry) { return entry.second == k; });
    if (named != last) dependents_.erase(named);
  }
}

Result<Json, ApiFailure> ObjectStore::erase(std::map<std::string, Json>::iterator it) {
  std::string k = it->first;
  Json object = it->second;
  object["metadata"]["resourceVersion"] = std::to_string(++resourceVersion_);
  if (auto s = journal({{"op", "delete"}, {"rv", resourceVersion_}, {"key", k}}); !s) {
    return fail(ApiFailure{500, "InternalError", s.error().message});
  }
  indexOwners(k, it->second, false);
  objects_.erase(it);
  size_t bar = k.find('|');
  std::string resource = k.substr(0, bar), ns = k.substr(bar + 1, k.find('|', bar + 1) - bar - 1);
  record(resource, ns, "DELETED", object, nullptr);
  // The garbage collector's background deletion: what named it as its only existing owner.
  if (std::string uid = uidOf(object); !uid.empty()) {
    std::vector<std::string> owned;
    auto [first, last] = dependents_.equal_range(uid);
    for (auto d = first; d != last; ++d) owned.push_back(d->second);
    for (const std::string& dependent : owned) collectIfOrphaned(dependent);
  }
  return object;
}

void ObjectStore::collectIfOrphaned(const std::string& k) {
  auto it = objects_.find(k);
  if (it == objects_.end()) return;
  std::vector<std::string> owners = ownerUids(it->second);
  if (owners.empty() || std::any_of(owners.begin(), owners.end(), [&](const auto& u) { return uids_.count(u) > 0; })) {
    return;
  }
  (void)erase(it);
}

Result<Json, ApiFailure> ObjectStore::remove(const std::string& resource, const std::string& ns,
                                             const std::string& name, const std::string& expectedVersion) {
  std::lock_guard lock(mutex_);
  std::string k = key(resource, ns, name);
  auto it = objects_.find(k);
  if (it == objects_.end()) return fail(notFound(resource, name));
  std::string stored = it->second["metadata"].value("resourceVersion", "");
  if (!expectedVersion.empty() && expectedVersion != stored) {
    return fail(ApiFailure{409, "Conflict",
                           fmt::format("Operation cannot be fulfilled on {} \"{}\": Precondition failed: ResourceVersion "
                                       "in precondition: {}, ResourceVersion in object meta: {}",
                                       resource.substr(resource.find('/') + 1), name, expectedVersion, stored)});
  }
  return erase(it);
}

void ObjectStore::removeAll(const std::string& resource) {
  std::vector<std::pair<std::string, std::string>> doomed;
  {
    std::lock_guard lock(mutex_);
    std::string prefix = resource + "|";
    for (const auto& [k, object] : objects_) {
      if (k.rfind(prefix, 0) == 0) {
        doomed.emplace_back(object["metadata"].value("namespace", ""), object["metadata"].value("name", ""));
      }
    }
  }
  for (const auto& [ns, name] : doomed) (void)remove(resource, ns, name);
}

ObjectStore::ListResult ObjectStore::list(const std::string& resource, const std::string& ns,
                                          const LabelSelector& labels,
                                          const FieldSelector& fields) const {
  std::lock_guard lock(mutex_);
  ListResult result{{}, resourceVersion_};
  std::string prefix = resource + "|" + (ns.empty() ? "" : ns + "|");
  for (auto it = objects_.lower_bound(prefix); it != objects_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    const Json& object = it->second;
    if (!labels.matches(object["metadata"].value("labels", Json()))) continue;
    if (!fields.matches(object)) continue;
    result.items.push_back(object);
  }
  return result;
}

void ObjectStore::forEach(const std::string& resource, const std::function<void(const Json&)>& visit) const {
  std::lock_guard lock(mutex_);
  std::string prefix = resource + "|";
  for (auto it = objects_.lower_bound(prefix); it != objects_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    visit(it->second);
  }
}

ObjectStore::WaitResult ObjectStore::waitEvents(const std::string& resource, const std::string& ns,
                                                uint64_t& cursor, uint64_t watchEpoch,
                                                std::vector<StoredEvent>& out,
                                                std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  if (cursor < compactedThrough_) return WaitResult::kGone;
  auto ready = [&] { return resourceVersion_ > cursor || watchEpoch_ != watchEpoch; };
  if (!ready()) changed_.wait_for(lock, wait, ready);
  if (watchEpoch_ != watchEpoch) return WaitResult::kClosed;
  if (cursor < compactedThrough_) return WaitResult::kGone;
  // History is ordered by version: find the first newer than the cursor.
  auto it = std::upper_bound(history_.begin(), history_.end(), cursor,
                             [](uint64_t rv, const StoredEvent& e) { return rv < e.resourceVersion; });
  for (; it != history_.end(); ++it) {
    if (it->resource == resource && (ns.empty() || it->ns == ns)) out.push_back(*it);
  }
  cursor = resourceVersion_;
  return out.empty() ? WaitResult::kTimeout : WaitResult::kEvents;
}

uint64_t ObjectStore::resourceVersion() const {
  std::lock_guard lock(mutex_);
  return resourceVersion_;
}

uint64_t ObjectStore::specChanges(const std::string& resource) const {
  std::lock_guard lock(mutex_);
  auto it = specChanges_.find(resource);
  return it == specChanges_.end() ? 0 : it->second;
}

bool ObjectStore::tooOld(uint64_t resourceVersion) const {
  std::lock_guard lock(mutex_);
  return resourceVersion < compactedThrough_;
}

uint64_t ObjectStore::watchEpoch() const {
  std::lock_guard lock(mutex_);
  return watchEpoch_;
}

void ObjectStore::closeWatches() {
  std::lock_guard lock(mutex_);
  ++watchEpoch_;
  changed_.notify_all();
}

}  // namespace l2a::lab

#include "kube/informer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <algorithm>
#include <charconv>
#include <thread>
#include <tuple>

#include "common/mapped_allocator.h"

namespace l2a::kube {
namespace {

// Sleeps in steps so a stop request is seen within one (an optional kind not served waits 30 s:
// 20 ms steps were 50 wake-ups a second per such informer, for nothing).
void pause(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  auto end = std::chrono::steady_clock::now() + d;
  while (!stop.load() && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(end - std::chrono::steady_clock::now(),
                                                                              std::chrono::milliseconds(100)));
  }
}

}  // namespace

std::string Informer::resourceVersionOf(const Json& object) {
  static const Json::json_pointer kPath("/metadata/resourceVersion");
  if (!object.is_object() || !object.contains(kPath)) return "";
  const Json& rv = object.at(kPath);
  return rv.is_string() ? rv.get<std::string>() : "";
}

Informer::Informer(Client& client, Resource resource, std::string ns, InformerHandlers handlers,
                   Options options)
    : client_(client),
      resource_(std::move(resource)),
      namespace_(std::move(ns)),
      handlers_(std::move(handlers)),
      options_(std::move(options)) {}

Status<> Informer::relist(bool consistent) {
  std::string from = consistent ? "" : resourceVersion();
  if (!consistent && from.empty()) from = "0";
  // From the watch cache a list comes whole (a page size would ask for an exact version from
  // etcd); a consistent list is paged.
  // Each item is packed as it is parsed: the list never exists whole as a tree.
  Cache::Entries listed;  // mapped pages: its growth leaves no holes in the arena (mapped_allocator.h)
  // With `versionsOnly`: the whole kept objects, for the handlers (until they ran).
  std::map<std::string, Entry> whole;
  auto list = client_.listEach(
      resource_, namespace_,
      {.labelSelector = options_.labelSelector,
       .fieldSelector = options_.fieldSelector,
       .limit = consistent ? options_.pageSize : 0,
       .resourceVersion = from},
      [&](Json&& item) {
        std::string key = keyOf(item);
        Json object = kept(std::move(item));
        if (options_.versionsOnly) {
          listed.emplace_back(key, cached(object));
          whole.insert_or_assign(std::move(key), pack(std::move(object)));
        } else {
          listed.emplace_back(std::move(key), pack(std::move(object)));
        }
      },
      [&] {
        listed.clear();
        whole.clear();
      });
  if (!list) return fail(list.error());
  Cache fresh(std::move(listed));
  fresh.shrink_to_fit();
  size_t count = fresh.size();

  // Key and entry of each object gone, added, or changed (old and new).
  // Mapped pages too, as `listed`: growing, they would leave holes the handlers' objects fill.
  std::vector<std::pair<std::string, Entry>, common::MappedAllocator<std::pair<std::string, Entry>>> added, removed;
  std::vector<std::tuple<std::string, Entry, Entry>, common::MappedAllocator<std::tuple<std::string, Entry, Entry>>> changed;
  // What a handler gets of a listed object.
  auto handed = [&](const std::string& key, const Entry& entry) { return options_.versionsOnly ? whole.at(key) : entry; };
  bool wasServed = true;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, entry] : cache_) {
      if (!fresh.contains(key)) removed.emplace_back(key, entry);
    }
    for (const auto& [key, entry] : fresh) {
      auto old = cache_.find(key);
      if (old == cache_.end()) {
        added.emplace_back(key, handed(key, entry));
      } else if (old->second.version != entry.version && !sameKeptPart(old->second, entry)) {
        changed.emplace_back(key, old->second, handed(key, entry));
      }
    }
    cache_ = std::move(fresh);
    resourceVersion_ = resourceVersionOf(*list);
    ++stats_.lists;
    // Served as soon as its objects are seen cached (a reader must not find them while
    // served() still says no).
    wasServed = served_.exchange(true);
  }
  // Handlers get trees unpacked one at a time.
  for (const auto& [key, e] : removed) if (handlers_.onDelete) handlers_.onDelete(unpack(key, e));
  for (const auto& [key, e] : added) if (handlers_.onAdd) handlers_.onAdd(unpack(key, e));
  for (const auto& [key, o, n] : changed) if (handlers_.onUpdate) handlers_.onUpdate(old(key, o), unpack(key, n));
  // What the list held for the handlers goes only now, all of it at once: freed before them,
  // the consumers' own copies (the agent's 10,000 ServiceInfo) filled its holes one by one and
  // what was freed after sat between them, thousands of holes of a kilobyte no trim can give
  // back (one agent's arena at 10,000 Services: 12.5 MiB free in 13,000 chunks around 5 MiB in
  // use, malloc_info). Freed together, they are one span the trim below gives back.
  removed = {};
  added = {};
  changed = {};
  whole = {};
  if (count > 100) malloc_trim(0);
  synced_ = true;
  if (!wasServed) spdlog::info("event=kind_served resource={}", resource_.displayName());
  if (handlers_.onSynced) handlers_.onSynced();
  return Ok{};
}

void Informer::absent() {
  Cache gone;
  {
    std::lock_guard lock(mutex_);
    gone = std::exchange(cache_, {});
    resourceVersion_.clear();
    lastError_.clear();
    ++stats_.lists;
  }
  bool wasServed = served_.exchange(false);
  if (wasServed) {
    spdlog::info("event=kind_not_served resource={} note=\"optional: looked for again every {} s\"",
                 resource_.displayName(), options_.absentRetry.count() / 1000);
  }
  for (const auto& [key, e] : gone) if (handlers_.onDelete) handlers_.onDelete(unpack(key, e));
  bool first = !synced_.exchange(true);
  // Still absent, as at the last look: nothing changed, so no handler (the operator re-imported
  // all 10,000 Services on each look, every 30 s: 2.4 s of CPU).
  if (handlers_.onSynced && (first || wasServed || !gone.empty())) handlers_.onSynced();
}

// What is cached of an object: with its apiVersion and kind (kube-apiserver leaves them out of
// list items but not of watch events: the same object must look the same either way, and an
// Event needs the kind), then what the transform keeps.
Json Informer::kept(Json object) const {
  if (object.is_object() && !resource_.kind.empty()) {
    if (!object.contains("kind")) object["kind"] = resource_.kind;
    if (!object.contains("apiVersion")) object["apiVersion"] = resource_.apiVersion();
  }
  return options_.transform ? options_.transform(object) : object;
}

uint64_t Informer::versionOf(const std::string& resourceVersion) {
  if (resourceVersion.empty()) return 0;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(resourceVersion.data(), resourceVersion.data() + resourceVersion.size(), value);
  bool canonical = error == std::errc() && end == resourceVersion.data() + resourceVersion.size() &&
                   resourceVersion[0] != '0' && decimal(value);
  return canonical ? value : std::hash<std::string>{}(resourceVersion) | (uint64_t{1} << 63);
}

Informer::Entry Informer::pack(Json kept) {
  Entry entry{versionOf(resourceVersionOf(kept)), nullptr};
  if (decimal(entry.version)) kept["metadata"].erase("resourceVersion");
  std::vector<uint8_t> bytes = Json::to_msgpack(kept);
  entry.bytes = std::make_shared<const std::string>(bytes.begin(), bytes.end());
  return entry;
}

Json Informer::unpack(const std::string& key, const Entry& entry) const {
  Json object;
  if (entry.bytes) {
    // Bytes this informer wrote itself; still, never an exception: an unreadable entry is empty.
    object = Json::from_msgpack(*entry.bytes, true, false);
    if (object.is_discarded()) return Json::object();
  } else {
    // Versions only: the stub its key names ("namespace/name", or "name").
    auto slash = key.find('/');
    Json metadata = {{"name", slash == std::string::npos ? key : key.substr(slash + 1)}};
    if (slash != std::string::npos) metadata["namespace"] = key.substr(0, slash);
    object = {{"apiVersion", resource_.apiVersion()}, {"kind", resource_.kind}, {"metadata", std::move(metadata)}};
  }
  if (decimal(entry.version) && object.is_object() && object["metadata"].is_object()) {
    object["metadata"]["resourceVersion"] = std::to_string(entry.version);
  }
  return object;
}

void Informer::apply(const WatchEvent& event) {
  std::string key = keyOf(event.object);
  Json object = kept(event.object);
  Entry entry = cached(object);
  std::optional<Entry> previous;
  {
    std::lock_guard lock(mutex_);
    std::string rv = resourceVersionOf(event.object);
    if (!rv.empty()) resourceVersion_ = rv;
    ++stats_.events;
    if (auto cached = cache_.find(key); cached != cache_.end()) previous = cached->second;
    if (event.type == "DELETED") {
      cache_.erase(key);
    } else {
      cache_.insert_or_assign(key, entry);
    }
  }
  if (event.type == "DELETED") {
    // What was cached (the object as last seen), or with `versionsOnly` the object as deleted.
    if (handlers_.onDelete) handlers_.onDelete(previous && previous->bytes ? unpack(key, *previous) : object);
  } else if (previous) {
    if (handlers_.onUpdate && !sameKeptPart(*previous, entry)) handlers_.onUpdate(old(key, *previous), object);
  } else if (handlers_.onAdd) {
    handlers_.onAdd(object);
  }
}

void Informer::run(const std::atomic<bool>& stop) {
  bool needList = true;
  bool consistent = false;  // the next list must be a quorum read (after a 410)
  int failures = 0;  // consecutive: only the first is logged
  Backoff backoff(options_.retryBackoff);
  auto failed = [&](const char* what, const Error& error) {
    {
      std::lock_guard lock(mutex_);
      lastError_ = fmt::format("{} {}: {}", resource_.displayName(), what, error.message);
    }
    if (failures == 0) {
      spdlog::warn("event={} resource={} error=\"{}\"", what, resource_.displayName(), error.message);
    }
    ++failures;
    pause(backoff.next(), stop);
  };
  // A list that works does not end the backoff (a list/watch/ERROR cycle must keep slowing
  // down); a watch that ran its course does.
  auto recovered = [&](bool watchRan) {
    {
      std::lock_guard lock(mutex_);
      lastError_.clear();
    }
    if (failures > 0) {
      spdlog::info("event=watch_recovered resource={} after_failures={}", resource_.displayName(), failures);
    }
    failures = 0;
    if (watchRan) backoff.reset();
  };
  while (!stop.load()) {
    if (needList) {
      if (auto s = relist(consistent); !s) {
        if (options_.optional && s.error().code == ApiErrorCodes::kNotFound) {
          absent();
          pause(options_.absentRetry, stop);
          continue;
        }
        if (s.error().code == ApiErrorCodes::kGone) consistent = true;
        failed("list_failed", s.error());
        continue;
      }
      recovered(false);
      needList = false;
      consistent = false;
    }
    bool gone = false;
    std::string errorEvent;
    WatchOptions watch{.resourceVersion = resourceVersion(),
                       .labelSelector = options_.labelSelector,
                       .fieldSelector = options_.fieldSelector,
                       .timeoutSeconds = options_.watchTimeoutSeconds,
                       .idleTimeoutSeconds = options_.idleTimeoutSeconds,
                       .abort = &relist_};
    {
      std::lock_guard lock(mutex_);
      ++stats_.watches;
    }
    auto status = client_.watch(
        resource_, namespace_, watch,
        [&](const WatchEvent& event) {
          if (event.type == "BOOKMARK") {
            std::lock_guard lock(mutex_);
            std::string rv = resourceVersionOf(event.object);
            if (!rv.empty()) resourceVersion_ = rv;
            ++stats_.bookmarks;
            return true;
          }
          if (event.type == "ERROR") {
            // metav1.Status; 410 means our resourceVersion is older than the server keeps.
            Json code = event.object.is_object() ? event.object.value("code", Json()) : Json();
            gone = code == Json(410);
            if (!gone) {
              needList = true;
              errorEvent = event.object.dump();
            }
            return false;
          }
          apply(event);
          return true;
        },
        stop);
    if (!status) {
      gone = gone || status.error().code == ApiErrorCodes::kGone;
      if (!gone) failed("watch_failed", status.error());
      // An optional kind whose CRD went away: the list says so (and empties the cache).
      if (options_.optional && status.error().code == ApiErrorCodes::kNotFound) needList = true;
    } else if (!errorEvent.empty()) {
      // An ERROR event that is not 410: relist, after the backoff (never a tight loop).
      failed("watch_error", Error{"watch_error", errorEvent.substr(0, 300)});
    } else {
      recovered(true);
    }
    if (gone) {
      std::lock_guard lock(mutex_);
      ++stats_.gone;
      needList = true;
      consistent = true;
    }
    if (relist_.exchange(false)) needList = true;
  }
}

void Informer::relistNow() { relist_ = true; }

std::vector<Json> Informer::items() const {
  std::vector<Json> out;
  forEach([&out](const Json& object) { out.push_back(object); });
  return out;
}

void Informer::forEach(const std::function<void(const Json&)>& visit) const {
  std::vector<std::pair<std::string, Entry>> entries;
  {
    std::lock_guard lock(mutex_);
    entries.reserve(cache_.size());
    for (const auto& [key, entry] : cache_) entries.emplace_back(key, entry);
  }
  for (const auto& [key, entry] : entries) visit(unpack(key, entry));
}

bool Informer::contains(const std::string& key) const {
  std::lock_guard lock(mutex_);
  return cache_.contains(key);
}

std::optional<Json> Informer::get(const std::string& key) const {
  Entry entry;
  {
    std::lock_guard lock(mutex_);
    auto cached = cache_.find(key);
    if (cached == cache_.end()) return std::nullopt;
    entry = cached->second;
  }
  return unpack(key, entry);
}

size_t Informer::size() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

std::string Informer::resourceVersion() const {
  std::lock_guard lock(mutex_);
  return resourceVersion_;
}

std::string Informer::lastError() const {
  std::lock_guard lock(mutex_);
  return lastError_;
}

InformerStats Informer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace l2a::kube

#include "kube/event_recorder.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/timestamps.h"

namespace l2a::kube {

InvolvedObject InvolvedObject::of(const Json& object) {
  auto text = [](const Json& o, const char* key) {
    auto it = o.is_object() ? o.find(key) : o.end();
    return o.is_object() && it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Json meta = object.is_object() ? object.value("metadata", Json::object()) : Json::object();
  return {text(object, "apiVersion"), text(object, "kind"), text(meta, "namespace"), text(meta, "name"),
          text(meta, "uid")};
}

EventRecorder::EventRecorder(Client& client, Options options) : client_(client), options_(std::move(options)) {
  if (!options_.now) options_.now = [] { return Clock::now(); };
  if (!options_.wallNow) options_.wallNow = [] { return common::rfc3339(); };
  sender_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  sender_.join();
}

void EventRecorder::record(const InvolvedObject& object, const std::string& type, const std::string& reason,
                           const std::string& message) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.queueLimit) {
      ++stats_.queueFull;
      return;
    }
    queue_.push_back({object, type, reason, message});
  }
  changed_.notify_all();
}

void EventRecorder::flush() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

EventRecorder::Stats EventRecorder::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void EventRecorder::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (stopping_) return;
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    send(next);
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

template <typename Map>
void EventRecorder::forgetOldest(Map& map) {
  while (map.size() > options_.remembered) {
    auto oldest = std::min_element(map.begin(), map.end(), [](const auto& a, const auto& b) {
      if constexpr (std::is_same_v<typename Map::mapped_type, Sent>) {
        return a.second.last < b.second.last;
      } else {
        return a.second.refilled < b.second.refilled;
      }
    });
    map.erase(oldest);
  }
}

bool EventRecorder::allow(const std::string& objectKey, Clock::time_point now) {
  auto [it, fresh] = buckets_.try_emplace(objectKey, Bucket{static_cast<double>(options_.burst), now});
  Bucket& b = it->second;
  double perSecond = 1.0 / static_cast<double>(std::max<int64_t>(1, options_.refill.count()));
  b.tokens = std::min<double>(options_.burst, b.tokens + std::chrono::duration<double>(now - b.refilled).count() * perSecond);
  b.refilled = now;
  if (fresh) forgetOldest(buckets_);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void EventRecorder::send(const Pending& p) {
  auto now = options_.now();
  std::string objectKey = p.object.uid.empty() ? p.object.kind + "/" + p.object.ns + "/" + p.object.name : p.object.uid;
  std::string key = objectKey + "|" + p.type + "|" + p.reason + "|" + p.message;
  std::string ns = p.object.ns.empty() ? "default" : p.object.ns;
  std::string stamp = options_.wallNow();
  auto counted = [&](uint64_t Stats::*field) {
    std::lock_guard lock(mutex_);
    ++(stats_.*field);
  };
  // Forget what left the window, so the map holds only what can still be counted on.
  std::erase_if(sent_, [&](const auto& e) { return now - e.second.last >= options_.aggregationWindow; });
  auto known = sent_.find(key);
  if (known != sent_.end()) {
    // The same again: one more on the Event that already says it (not rate limited, as in
    // client-go: it costs a patch, not a new object).
    Sent& s = known->second;
    auto patched = client_.patch(resources::kEvents, s.ns, s.eventName,
                                 {{"count", s.count + 1}, {"lastTimestamp", stamp}});
    if (patched) {
      ++s.count;
      s.last = now;
      counted(&Stats::aggregated);
      return;
    }
    sent_.erase(known);  // deleted or expired on the server: send it anew below
  }
  if (!allow(objectKey, now)) {
    counted(&Stats::rateLimited);
    return;
  }
  std::string base = p.object.name.empty() ? "object" : p.object.name.substr(0, 200);
  std::string name = fmt::format("{}.{:x}{:04x}", base,
                                 std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count(),
                                 ++serial_ & 0xffff);
  Json event{{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"involvedObject", {{"apiVersion", p.object.apiVersion.empty() ? "v1" : p.object.apiVersion},
                                 {"kind", p.object.kind},
                                 {"name", p.object.name},
                                 {"namespace", p.object.ns},
                                 {"uid", p.object.uid}}},
             {"reason", p.reason},
             {"message", p.message},
             {"type", p.type},
             {"source", {{"component", options_.component}}},
             {"reportingComponent", options_.component},
             {"firstTimestamp", stamp},
             {"lastTimestamp", stamp},
             {"count", 1}};
  if (!options_.host.empty()) {
    event["source"]["host"] = options_.host;
    event["reportingInstance"] = options_.host;
  }
  if (!client_.create(resources::kEvents, ns, event)) {
    counted(&Stats::failed);
    return;
  }
  sent_[key] = {name, ns, 1, now};
  forgetOldest(sent_);
  counted(&Stats::created);
}

}  // namespace l2a::kube

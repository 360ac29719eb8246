// EventRecorder: Kubernetes Events sent the way client-go's EventCorrelator sends them. The
// same (object, type, reason, message) within the aggregation window is one Event whose count
// and lastTimestamp grow (a patch, not a new object); each object may have a burst of Events and
// then one per refill period (what is beyond is dropped and counted); a thread of its own sends
// them, so whoever records never waits on the API server; the queue and every per-object map
// are bounded. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "kube/client.h"

namespace l2a::kube {

// The object an Event is about (its involvedObject).
struct InvolvedObject {
  std::string apiVersion;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  static InvolvedObject of(const Json& object);  // from an object as the API returned it
};

class EventRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::string component;     // source.component and reportingComponent ("l2a-agent")
    std::string host;          // source.host and reportingInstance ("" for none)
    size_t queueLimit = 1000;  // beyond it, records are dropped and counted
    std::chrono::seconds aggregationWindow{600};
    int burst = 25;                 // Events per object at once...
    std::chrono::seconds refill{300};  // ...then one more per refill period
    size_t remembered = 4096;       // aggregated Events and rate limits kept, the oldest forgotten
    std::function<Clock::time_point()> now;  // injected in tests
    std::function<std::string()> wallNow;    // RFC 3339 stamps; injected in tests
  };
  struct Stats {
    uint64_t created = 0;
    uint64_t aggregated = 0;  // counted on an existing Event instead of a new one
    uint64_t rateLimited = 0;
    uint64_t queueFull = 0;
    uint64_t failed = 0;
  };

  EventRecorder(Client& client, Options options);
  ~EventRecorder();  // stops the sender; what is still queued is dropped

  void record(const InvolvedObject& object, const std::string& type, const std::string& reason,
              const std::string& message);
  // Blocks until everything recorded so far has been sent (or given up on). For tests and for
  // a graceful shutdown.
  void flush();
  Stats stats() const;

 private:
  struct Pending {
    InvolvedObject object;
    std::string type, reason, message;
  };
  struct Sent {
    std::string eventName;
    std::string ns;
    int64_t count;
    Clock::time_point last;
  };
  struct Bucket {
    double tokens;
    Clock::time_point refilled;
  };
  void run();
  void send(const Pending& p);
  bool allow(const std::string& objectKey, Clock::time_point now);
  template <typename Map>
  void forgetOldest(Map& map);

  Client& client_;
  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  Stats stats_;
  // Sender thread only.
  std::map<std::string, Sent> sent_;       // aggregation key -> the Event that counts it
  std::map<std::string, Bucket> buckets_;  // object -> its rate limit
  uint64_t serial_ = 0;
  std::thread sender_;
};

}  // namespace l2a::kube

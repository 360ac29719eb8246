// LeaderElector: a coordination.k8s.io/v1 Lease lock with client-go's leaderelection semantics
// (same record fields and timestamps; take-over only after the observed record has not changed
// for the record's own leaseDurationSeconds by the local clock; renew deadline; retry period;
// a record of any shape read without an exception; release clears the
// holder so another contender takes over at once). The same code keeps a per-node heartbeat
// Lease. Driven by tick(now) — no thread of its own — so many electors share one thread
// (LeaseDriver). Not thread-safe except isLeader()/leader()/lastRenew()/timing()/stretch(), which
// any thread calls.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "kube/client.h"

namespace l2a::kube {

struct LeaderElectionConfig {
  std::string ns;
  std::string name;
  std::string identity;
  std::chrono::milliseconds leaseDuration{15000};
  std::chrono::milliseconds renewDeadline{10000};
  std::chrono::milliseconds retryPeriod{2000};
  // The record's metadata.ownerReferences (asked at every write; an empty array: not known yet,
  // what the record has is kept). A node's Lease names its Node, so the garbage collector
  // removes it with the Node, as the kubelet's node Leases.
  std::function<Json()> owners;
  // Told, before each request of an attempt, how long that request may take: for the holder,
  // what is left until its renew deadline (client-go bounds its renewal by it, so an API server
  // answering in 2 s keeps a Lease with a 3 s deadline held); otherwise what is left of one
  // retry period. An attempt whose time is spent sends nothing more. Unset: the transport's own
  // bound applies.
  std::function<void(std::chrono::milliseconds)> requestBudget;
};

// The three periods of one attempt, and of the record it wrote.
struct LeaseTiming {
  std::chrono::milliseconds leaseDuration{0};  // as written: whole seconds
  std::chrono::milliseconds renewDeadline{0};
  std::chrono::milliseconds retryPeriod{0};
};

struct LeaderCallbacks {
  std::function<void()> onStartedLeading;
  std::function<void()> onStoppedLeading;
  std::function<void(const std::string& identity)> onNewLeader;
};

// Lease timestamps: RFC 3339 with microseconds, UTC ("2026-11-26T15:40:00.123456Z").
std::string formatMicroTime(std::chrono::system_clock::time_point t);

class LeaderElector {
 public:
  using SteadyClock = std::chrono::steady_clock;
  LeaderElector(Client& client, LeaderElectionConfig config, LeaderCallbacks callbacks,
                std::function<std::chrono::system_clock::time_point()> wallNow = {});

  // One acquire-or-renew attempt if due at `now`; returns when the next is due.
  SteadyClock::time_point tick(SteadyClock::time_point now);
  // Gives the lease up (holder cleared) when held; stops leading.
  Status<> release();

  bool isLeader() const { return leading_.load(); }
  std::string leader() const;
  // When the lease was last written successfully by us (epoch when never).
  SteadyClock::time_point lastRenew() const;
  const LeaderElectionConfig& config() const { return config_; }
  // From the next attempt on, every period of the config times `factor` (at least 1; the
  // duration rounded up to whole seconds). Each attempt writes its own duration and is followed
  // by its own retry period, so peers always judge the record by what it says. Any thread.
  void stretch(double factor);
  // The timing of the last record we wrote (the config's until then). Any thread.
  LeaseTiming timing() const;
  uint64_t renewFailures() const { return renewFailures_.load(); }

 private:
  bool tryAcquireOrRenew(SteadyClock::time_point now, const LeaseTiming& timing);
  // Updates `base` (a Lease as read or last written) to `spec`, naming the owners.
  bool writeOver(const Json& base, const Json& spec, SteadyClock::time_point now);
  LeaseTiming stretched() const;
  // Starts an attempt that may take `budget` (real time from now).
  void beginAttempt(std::chrono::milliseconds budget);
  // Before each request: false when the attempt's time is spent; else tells requestBudget what
  // is left.
  bool withinBudget();
  static constexpr std::chrono::milliseconds kMinRequestBudget{10};
  void observe(const Json& spec, SteadyClock::time_point now);
  void setLeading(bool leading);

  Client& client_;
  const LeaderElectionConfig config_;
  LeaderCallbacks callbacks_;
  std::function<std::chrono::system_clock::time_point()> wallNow_;

  Json observedSpec_;                       // the last lease spec read or written
  SteadyClock::time_point observedTime_{};  // when it last changed, by our clock
  Json lastWritten_;  // the Lease as our last write left it, while we hold it (the fast path)
  SteadyClock::time_point next_{};
  SteadyClock::time_point attemptStart_{};  // real time
  std::chrono::milliseconds attemptBudget_{0};
  mutable std::mutex mutex_;
  std::string leader_;
  SteadyClock::time_point lastRenew_{};
  std::atomic<double> stretch_{1.0};
  LeaseTiming written_;  // the timing of the record lastRenew_ wrote
  std::atomic<bool> leading_{false};
  std::atomic<uint64_t> renewFailures_{0};
};

// Runs many electors on the calling thread, each ticked when due, until `stop`.
class LeaseDriver {
 public:
  void add(LeaderElector& elector) { electors_.push_back(&elector); }
  void run(const std::atomic<bool>& stop);

 private:
  std::vector<LeaderElector*> electors_;
};

}  // namespace l2a::kube

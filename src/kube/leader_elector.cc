#include "kube/leader_elector.h"

#include "common/timestamps.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <thread>

namespace l2a::kube {

std::string formatMicroTime(std::chrono::system_clock::time_point t) { return common::rfc3339Micros(t); }

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config,
                             LeaderCallbacks callbacks,
                             std::function<std::chrono::system_clock::time_point()> wallNow)
    : client_(client),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      wallNow_(wallNow ? std::move(wallNow) : [] { return std::chrono::system_clock::now(); }),
      written_(stretched()) {}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mutex_);
  return leader_;
}

LeaderElector::SteadyClock::time_point LeaderElector::lastRenew() const {
  std::lock_guard lock(mutex_);
  return lastRenew_;
}

void LeaderElector::stretch(double factor) { stretch_ = std::isfinite(factor) ? std::max(1.0, factor) : 1.0; }

LeaseTiming LeaderElector::stretched() const {
  double factor = stretch_.load();
  auto times = [factor](std::chrono::milliseconds period) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(static_cast<double>(period.count()) * factor)));
  };
  return LeaseTiming{
      .leaseDuration = std::max<std::chrono::milliseconds>(
          std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(times(config_.leaseDuration))),
      .renewDeadline = times(config_.renewDeadline),
      .retryPeriod = times(config_.retryPeriod)};
}

LeaseTiming LeaderElector::timing() const {
  std::lock_guard lock(mutex_);
  return written_;
}

void LeaderElector::setLeading(bool leading) {
  bool was = leading_.exchange(leading);
  if (was == leading) return;
  if (leading && callbacks_.onStartedLeading) callbacks_.onStartedLeading();
  if (!leading && callbacks_.onStoppedLeading) callbacks_.onStoppedLeading();
}

namespace {

// Fields of a Lease record as another writer left them: any type may be there.
std::string holderOf(const Json& spec) {
  Json h = spec.is_object() ? spec.value("holderIdentity", Json()) : Json();
  return h.is_string() ? h.get<std::string>() : "";
}

int64_t integerOf(const Json& spec, const char* field, int64_t fallback) {
  Json v = spec.is_object() ? spec.value(field, Json()) : Json();
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

}  // namespace

void LeaderElector::observe(const Json& spec, SteadyClock::time_point now) {
  if (spec != observedSpec_) {
    observedSpec_ = spec;
    observedTime_ = now;
  }
  std::string holder = holderOf(spec);
  bool changed;
  {
    std::lock_guard lock(mutex_);
    changed = holder != leader_;
    leader_ = holder;
  }
  if (changed && !holder.empty() && callbacks_.onNewLeader) callbacks_.onNewLeader(holder);
}

bool LeaderElector::tryAcquireOrRenew(SteadyClock::time_point now, const LeaseTiming& timing) {
  std::string stamp = formatMicroTime(wallNow_());
  Json spec{{"holderIdentity", config_.identity},
            {"leaseDurationSeconds", std::chrono::duration_cast<std::chrono::seconds>(timing.leaseDuration).count()},
            {"acquireTime", stamp},
            {"renewTime", stamp},
            {"leaseTransitions", 0}};
  // The holder's fast path (client-go's): one update over the record it last wrote, no read.
  // Anything else wrote since (a conflict), or it failed: the read below decides, as before.
  if (leading_.load() && lastWritten_.is_object() && now < lastRenew() + LeaderElector::timing().leaseDuration) {
    Json held = lastWritten_.value("spec", Json());
    Json acquired = held.is_object() ? held.value("acquireTime", Json()) : Json();
    Json renewed = spec;
    renewed["acquireTime"] = acquired.is_string() ? acquired : Json(stamp);
    renewed["leaseTransitions"] = std::max<int64_t>(0, integerOf(held, "leaseTransitions", 0));
    if (writeOver(lastWritten_, renewed, now)) return true;
  }
  lastWritten_ = Json();
  if (!withinBudget()) return false;
  auto current = client_.get(resources::kLeases, config_.ns, config_.name);
  if (!current) {
    if (current.error().code != ApiErrorCodes::kNotFound) return false;
    Json lease{{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", config_.name}, {"namespace", config_.ns}}},
               {"spec", spec}};
    if (Json owners = config_.owners ? config_.owners() : Json(); owners.is_array() && !owners.empty()) {
      lease["metadata"]["ownerReferences"] = owners;
    }
    if (!withinBudget()) return false;
    auto created = client_.create(resources::kLeases, config_.ns, lease);
    if (!created || !created->is_object()) return false;
    observe(created->value("spec", Json()), now);
    lastWritten_ = std::move(*created);
    return true;
  }
  Json old = current->value("spec", Json::object());
  observe(old, now);
  std::string holder = holderOf(old);
  bool held = holder == config_.identity;
  // Another holder's record is judged by its own duration (client-go), not ours: a contender
  // configured shorter must not take over a lease its holder renews in time. Bounded to an hour.
  auto recorded = std::chrono::seconds(std::clamp<int64_t>(integerOf(old, "leaseDurationSeconds", 0), 0, 3600));
  if (!holder.empty() && !held && now < observedTime_ + recorded) return false;
  int64_t transitions = std::max<int64_t>(0, integerOf(old, "leaseTransitions", 0));
  if (held) {
    Json acquired = old.value("acquireTime", Json(stamp));
    spec["acquireTime"] = acquired.is_string() ? acquired : Json(stamp);
    spec["leaseTransitions"] = transitions;
  } else {
    spec["leaseTransitions"] = transitions + 1;
  }
  return writeOver(*current, spec, now);
}

bool LeaderElector::writeOver(const Json& base, const Json& spec, SteadyClock::time_point now) {
  Json updated = base;
  updated["spec"] = spec;
  Json metadata = updated.value("metadata", Json::object());
  if (config_.owners && metadata.is_object()) {
    // Rewritten when the owner changes: a Node deleted and made again under the same name has a
    // new uid, and the garbage collector deletes what names the old one.
    if (Json owners = config_.owners(); owners.is_array() && !owners.empty() &&
                                        metadata.value("ownerReferences", Json()) != owners) {
      updated["metadata"]["ownerReferences"] = owners;
    }
  }
  if (!withinBudget()) return false;
  auto result = client_.update(resources::kLeases, config_.ns, updated);
  if (!result || !result->is_object()) return false;
  observe(result->value("spec", Json()), now);
  lastWritten_ = std::move(*result);
  return true;
}

LeaderElector::SteadyClock::time_point LeaderElector::tick(SteadyClock::time_point now) {
  if (now < next_) return next_;
  LeaseTiming attempt = stretched();
  LeaseTiming held = timing();
  auto sinceRenew = std::chrono::duration_cast<std::chrono::milliseconds>(now - lastRenew());
  beginAttempt(leading_.load() ? held.renewDeadline - sinceRenew : attempt.retryPeriod);
  bool ok = tryAcquireOrRenew(now, attempt);
  if (ok) {
    if (attempt.leaseDuration != held.leaseDuration || attempt.retryPeriod != held.retryPeriod) {
      spdlog::info("event=lease_timing lease={}/{} duration_ms={} renew_deadline_ms={} retry_period_ms={}", config_.ns,
                   config_.name, attempt.leaseDuration.count(), attempt.renewDeadline.count(),
                   attempt.retryPeriod.count());
    }
    {
      std::lock_guard lock(mutex_);
      lastRenew_ = now;
      written_ = attempt;
    }
    setLeading(true);
  } else if (leading_.load() && (++renewFailures_, now - lastRenew() >= held.renewDeadline)) {
    spdlog::warn("event=lease_lost lease={}/{} identity={}", config_.ns, config_.name,
                 config_.identity);
    setLeading(false);
  } else if (leading_.load() && !ok) {
    // Still inside the renew deadline: keep leading, try again soon.
  }
  // After a failed attempt, within the record we still hold: never later than its own period.
  next_ = now + (ok ? attempt.retryPeriod : std::min(attempt.retryPeriod, held.retryPeriod));
  return next_;
}

void LeaderElector::beginAttempt(std::chrono::milliseconds budget) {
  attemptStart_ = SteadyClock::now();
  attemptBudget_ = budget;
}

bool LeaderElector::withinBudget() {
  if (!config_.requestBudget) return true;
  auto left = attemptBudget_ - std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - attemptStart_);
  if (left < kMinRequestBudget) return false;
  config_.requestBudget(left);
  return true;
}

Status<> LeaderElector::release() {
  if (!leading_.load()) return Ok{};
  beginAttempt(stretched().retryPeriod);
  if (!withinBudget()) return fail(Error{"timeout", "no time left to release the Lease"});
  auto current = client_.get(resources::kLeases, config_.ns, config_.name);
  if (!current) return fail(current.error());
  if (holderOf(current->value("spec", Json::object())) != config_.identity) {
    setLeading(false);
    return Ok{};
  }
  std::string stamp = formatMicroTime(wallNow_());
  Json updated = *current;
  updated["spec"]["holderIdentity"] = "";
  updated["spec"]["leaseDurationSeconds"] = 1;
  updated["spec"]["acquireTime"] = stamp;
  updated["spec"]["renewTime"] = stamp;
  auto result = withinBudget() ? client_.update(resources::kLeases, config_.ns, updated)
                               : Result<Json>(fail(Error{"timeout", "no time left to release the Lease"}));
  setLeading(false);
  if (!result) return fail(result.error());
  return Ok{};
}

void LeaseDriver::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::seconds(1);
    for (LeaderElector* e : electors_) next = std::min(next, e->tick(now));
    // In steps of at most 100 ms, so a stop request is seen within one (not 50 wake-ups a second).
    while (!stop.load() && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          next - std::chrono::steady_clock::now(), std::chrono::milliseconds(100)));
    }
  }
}

}  // namespace l2a::kube

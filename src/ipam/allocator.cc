#include "ipam/allocator.h"

#include <fmt/format.h>

#include <algorithm>

namespace l2a::ipam {
namespace {

bool allowsNamespace(const ServiceRequest& s, const std::string& ns) {
  return std::any_of(s.sharingNamespaces.begin(), s.sharingNamespaces.end(),
                     [&](const std::string& n) { return n == "*" || n == ns; });
}

const char* familyName(bool v6) { return v6 ? "IPv6" : "IPv4"; }

}  // namespace

bool sharingCompatible(const ServiceRequest& a, const ServiceRequest& b) {
  if (a.sharingKey.empty() || a.sharingKey != b.sharingKey) return false;
  if (a.ns != b.ns && !(allowsNamespace(a, b.ns) && allowsNamespace(b, a.ns))) return false;
  for (const ServicePort& p : a.ports) {
    if (std::find(b.ports.begin(), b.ports.end(), p) != b.ports.end()) return false;
  }
  if (a.externalTrafficPolicy != b.externalTrafficPolicy) return false;
  if (a.externalTrafficPolicy == "Local" && a.selector != b.selector) return false;
  return true;
}

std::set<std::string> Allocator::setPools(std::vector<Pool> pools) {
  // Conflicts: oldest first; a pool overlapping itself or an older usable pool is conflicting.
  std::vector<const Pool*> byAge;
  for (const Pool& p : pools) byAge.push_back(&p);
  std::sort(byAge.begin(), byAge.end(), [](const Pool* a, const Pool* b) {
    return std::tie(a->creationTimestamp, a->name, a->key) < std::tie(b->creationTimestamp, b->name, b->key);
  });
  conflicts_.clear();
  std::vector<const Pool*> usable;
  for (const Pool* p : byAge) {
    std::string why;
    for (size_t i = 0; i < p->ranges.size() && why.empty(); ++i) {
      for (size_t j = i + 1; j < p->ranges.size(); ++j) {
        if (p->ranges[i].overlaps(p->ranges[j])) {
          why = "its blocks overlap each other";
          break;
        }
      }
    }
    for (const Pool* older : usable) {
      if (!why.empty()) break;
      for (const Range& r : p->ranges) {
        if (std::any_of(older->ranges.begin(), older->ranges.end(), [&](const Range& o) { return r.overlaps(o); })) {
          why = fmt::format("overlaps the older pool {}", older->name);
          break;
        }
      }
    }
    if (why.empty()) {
      usable.push_back(p);
    } else {
      conflicts_[p->key] = why;
    }
  }
  // Tried in this order: MetalLB's priority (lower first, pools with one before those without),
  // then by name.
  std::sort(pools.begin(), pools.end(), [](const Pool& a, const Pool& b) {
    auto rank = [](const Pool& p) { return p.priority ? std::pair{0, *p.priority} : std::pair{1, 0}; };
    return std::forward_as_tuple(rank(a), a.name, a.key) < std::forward_as_tuple(rank(b), b.name, b.key);
  });
  pools_ = std::move(pools);
  hints_.clear();

  // Re-home or drop every allocation.
  std::set<std::string> affected;
  for (auto it = allocations_.begin(); it != allocations_.end();) {
    const Address& a = it->first;
    Owners& owners = it->second;
    const Pool* home = nullptr;
    for (const Pool& p : pools_) {
      if (conflicts_.count(p.key) || !p.contains(a)) continue;
      bool selectsAll = std::all_of(owners.services.begin(), owners.services.end(), [&](const std::string& k) {
        auto s = services_.find(k);
        return s == services_.end() || serves(p, s->second);
      });
      if (selectsAll) {
        home = &p;
        break;
      }
    }
    if (home != nullptr) {
      if (owners.pool != home->key) {
        count(owners.pool, -1);
        count(home->key, +1);
        owners.pool = home->key;
      }
      ++it;
      continue;
    }
    count(owners.pool, -1);
    for (const std::string& k : owners.services) {
      affected.insert(k);
      auto& list = addresses_[k];
      list.erase(std::remove(list.begin(), list.end(), a), list.end());
    }
    it = allocations_.erase(it);
  }
  return affected;
}

// The pool's selector takes the Service, and so does the pool the Service names, if any.
std::string Allocator::refusal(const Pool& p, const ServiceRequest& s) {
  if (!p.serviceSelector.matches(s.labels)) return "serviceSelector does not match";
  if (!s.poolName.empty() && s.poolName != p.name) return fmt::format("the Service names another pool ({})", s.poolName);
  if (!p.serviceSelectors.empty() &&
      std::none_of(p.serviceSelectors.begin(), p.serviceSelectors.end(),
                   [&](const k8s::LabelSelector& sel) { return sel.matches(s.labels); })) {
    return "none of serviceAllocation.serviceSelectors matches";
  }
  if (p.namespaces.empty() && p.namespaceSelectors.empty()) return "";
  bool inNamespace = std::find(p.namespaces.begin(), p.namespaces.end(), s.ns) != p.namespaces.end() ||
                     std::any_of(p.namespaceSelectors.begin(), p.namespaceSelectors.end(),
                                 [&](const k8s::LabelSelector& sel) { return sel.matches(s.namespaceLabels); });
  return inNamespace ? "" : fmt::format("namespace {} is not among serviceAllocation's namespaces", s.ns);
}

const Pool* Allocator::usablePoolFor(const Address& a, const ServiceRequest& s) const {
  for (const Pool& p : pools_) {
    if (!conflicts_.count(p.key) && p.contains(a) && serves(p, s)) return &p;
  }
  return nullptr;
}

bool Allocator::compatibleWithOwners(const Address& a, const ServiceRequest& s) const {
  auto it = allocations_.find(a);
  if (it == allocations_.end()) return true;
  for (const std::string& k : it->second.services) {
    if (k == s.key) continue;
    auto other = services_.find(k);
    if (other == services_.end() || !sharingCompatible(s, other->second)) return false;
  }
  return true;
}

bool Allocator::validFor(const Address& a, const ServiceRequest& s) const {
  return usablePoolFor(a, s) != nullptr && compatibleWithOwners(a, s);
}

void Allocator::own(const Address& a, const std::string& pool, const std::string& service) {
  auto [it, added] = allocations_.try_emplace(a);
  Owners& o = it->second;
  if (added || o.pool != pool) {
    if (!added) count(o.pool, -1);
    count(pool, +1);
    o.pool = pool;
  }
  o.services.insert(service);
}

void Allocator::count(const std::string& pool, int change) {
  U128& n = used_[pool];
  n = change > 0 ? n + 1 : n - 1;
  if (n == 0) used_.erase(pool);
}

void Allocator::disown(const Address& a, const std::string& service) {
  auto it = allocations_.find(a);
  if (it == allocations_.end()) return;
  it->second.services.erase(service);
  if (!it->second.services.empty()) return;
  // Freed: let the scan for free addresses look here again.
  for (size_t i = 0; i < pools_.size(); ++i) {
    const Pool& p = pools_[i];
    if (p.key != it->second.pool) continue;
    for (size_t r = 0; r < p.ranges.size(); ++r) {
      auto hint = hints_.find({p.key, r});
      if (p.ranges[r].contains(a) && hint != hints_.end() && a.value < hint->second) hint->second = a.value;
    }
  }
  count(it->second.pool, -1);
  allocations_.erase(it);
}

Allocator::Claim Allocator::claimRequested(const Address& a, const ServiceRequest& s) {
  const Pool* pool = usablePoolFor(a, s);
  if (pool == nullptr) {
    bool inSomePool = std::any_of(pools_.begin(), pools_.end(), [&](const Pool& p) {
      return !conflicts_.count(p.key) && p.contains(a);
    });
    if (inSomePool) {
      return {false, reasons::kPoolSelectorMismatch,
              fmt::format("requested address {} is in a pool that does not select the service", a.toString())};
    }
    return {false, reasons::kNoPool, fmt::format("requested address {} is in no usable pool", a.toString())};
  }
  auto it = allocations_.find(a);
  bool mine = it != allocations_.end() && it->second.services.count(s.key);
  if (it != allocations_.end() && !mine && !compatibleWithOwners(a, s)) {
    const std::string& other = *it->second.services.begin();
    auto o = services_.find(other);
    bool sameKey = o != services_.end() && !s.sharingKey.empty() && o->second.sharingKey == s.sharingKey;
    return {false, sameKey ? reasons::kIncompatibleService : reasons::kAlreadyAllocated,
            fmt::format("requested address {} is already allocated to {}{}", a.toString(), other,
                        sameKey ? ", which cannot share it (ports, traffic policy or namespaces)" : "")};
  }
  if (pool->disabled && it == allocations_.end()) {
    return {false, reasons::kOutOfIps, fmt::format("pool {} is disabled", pool->name)};
  }
  own(a, pool->key, s.key);
  return {true, "", ""};
}

std::optional<Address> Allocator::sharedAddress(bool v6, const ServiceRequest& s) const {
  for (const auto& [a, owners] : allocations_) {
    if (a.v6 != v6 || owners.services.count(s.key)) continue;
    bool sameKey = std::all_of(owners.services.begin(), owners.services.end(), [&](const std::string& k) {
      auto o = services_.find(k);
      return o != services_.end() && o->second.sharingKey == s.sharingKey;
    });
    if (sameKey && compatibleWithOwners(a, s) && usablePoolFor(a, s) != nullptr) return a;
  }
  return std::nullopt;
}

std::optional<Address> Allocator::nextFree(const Pool& pool, bool v6) {
  for (size_t r = 0; r < pool.ranges.size(); ++r) {
    const Range& range = pool.ranges[r];
    if (range.first.v6 != v6) continue;
    U128& hint = hints_.try_emplace({pool.key, r}, range.first.value).first->second;
    Address candidate{v6, std::max(hint, range.first.value)};
    auto it = allocations_.lower_bound(candidate);
    while (candidate.value <= range.last.value) {
      if (pool.avoidBuggyIps && buggyAddress(candidate)) {
        if (candidate.value == range.last.value) break;
        ++candidate.value;
        continue;
      }
      while (it != allocations_.end() && it->first < candidate) ++it;
      if (it == allocations_.end() || it->first != candidate) {
        hint = candidate.value;
        return candidate;
      }
      ++it;
      if (candidate.value == range.last.value) break;
      ++candidate.value;
    }
    hint = range.last.value;  // full: the next scan of this range is short
  }
  return std::nullopt;
}

Allocator::Claim Allocator::allocateNew(bool v6, const ServiceRequest& s, Address& out) {
  if (!s.sharingKey.empty()) {
    if (auto shared = sharedAddress(v6, s)) {
      out = *shared;
      own(out, allocations_[out].pool, s.key);
      return {true, "", ""};
    }
  }
  bool selected = false;
  for (const Pool& p : pools_) {
    if (conflicts_.count(p.key) || !serves(p, s)) continue;
    // autoAssign: false: only for a Service that names the pool (or asks for one of its addresses).
    if (!p.autoAssign && s.poolName != p.name) continue;
    bool hasFamily = std::any_of(p.ranges.begin(), p.ranges.end(), [&](const Range& r) { return r.first.v6 == v6; });
    if (!hasFamily) continue;
    selected = true;
    if (p.disabled) continue;
    if (auto a = nextFree(p, v6)) {
      out = *a;
      own(out, p.key, s.key);
      return {true, "", ""};
    }
  }
  if (!selected && !s.poolName.empty() &&
      std::none_of(pools_.begin(), pools_.end(), [&](const Pool& p) { return p.name == s.poolName; })) {
    return {false, reasons::kNoPool, fmt::format("the pool the service names ({}) does not exist", s.poolName)};
  }
  if (!selected) return {false, reasons::kNoPool, fmt::format("no pool with {} addresses selects the service", familyName(v6))};
  return {false, reasons::kOutOfIps, fmt::format("every pool with {} addresses selecting the service is full or disabled", familyName(v6))};
}

AllocationResult Allocator::reconcile(const ServiceRequest& s, bool allowNew) {
  if (!s.qualifies) {
    forget(s.key);
    return {};
  }
  AllocationResult result{.handled = true};
  if (!s.requestError.empty()) {
    forget(s.key);
    result.reason = reasons::kInvalidRequest;
    result.message = s.requestError;
    return result;
  }
  services_[s.key] = s;
  auto known = addresses_.find(s.key);
  std::vector<Address> previous = known != addresses_.end() ? known->second : s.ingress;
  // Take our own addresses out first, so a service re-checks them like any other request.
  for (const Address& a : previous) disown(a, s.key);

  std::vector<Address> chosen;
  std::vector<std::string> problems;
  std::string reason;
  bool pending = false;
  for (bool v6 : {false, true}) {
    bool wanted = v6 ? s.wantV6 : s.wantV4;
    std::vector<Address> requested;
    for (const Address& a : s.requested) {
      if (a.v6 == v6) requested.push_back(a);
    }
    // Cilium's rule: a Service that names its addresses gets exactly those — no address of
    // another family is added — and only of families the Service has.
    if (!s.requested.empty()) {
      for (const Address& a : requested) {
        if (!wanted) {
          problems.push_back(fmt::format("requested address {} is {}, not one of the Service's ipFamilies",
                                         a.toString(), familyName(v6)));
          reason = reasons::kInvalidRequest;
          continue;
        }
        Claim c = claimRequested(a, s);
        if (c.ok) {
          chosen.push_back(a);
        } else {
          problems.push_back(c.message);
          reason = c.reason;
        }
      }
      continue;
    }
    if (!wanted) continue;
    auto keep = std::find_if(previous.begin(), previous.end(), [&](const Address& a) {
      return a.v6 == v6 && validFor(a, s);
    });
    if (keep != previous.end()) {
      own(*keep, usablePoolFor(*keep, s)->key, s.key);
      chosen.push_back(*keep);
      continue;
    }
    if (!allowNew) {
      pending = true;
      continue;
    }
    Address fresh;
    Claim c = allocateNew(v6, s, fresh);
    if (c.ok) {
      chosen.push_back(fresh);
    } else {
      problems.push_back(c.message);
      if (reason.empty()) reason = c.reason;
    }
  }
  bool explicitFailed = !s.requested.empty() && !problems.empty();
  if ((s.requireDualStack && !problems.empty()) || explicitFailed) {
    for (const Address& a : chosen) disown(a, s.key);
    chosen.clear();
  }
  addresses_[s.key] = chosen;
  result.addresses = chosen;
  if (pending && chosen.empty()) {
    result.reason = "pending";
    return result;
  }
  result.satisfied = !chosen.empty() && (problems.empty() || (!s.requireDualStack && !explicitFailed));
  if (result.satisfied) {
    result.reason = reasons::kSatisfied;
    std::vector<std::string> texts;
    for (const Address& a : chosen) texts.push_back(a.toString());
    result.message = fmt::format("allocated {}", fmt::join(texts, ", "));
    if (!problems.empty()) result.message += fmt::format(" ({})", fmt::join(problems, "; "));
  } else {
    result.reason = reason.empty() ? reasons::kNoPool : reason;
    result.message = fmt::format("{}", fmt::join(problems, "; "));
    if (s.requireDualStack && !problems.empty()) {
      result.message = "RequireDualStack cannot be served: " + result.message;
    }
  }
  return result;
}

void Allocator::forget(const std::string& serviceKey) {
  auto it = addresses_.find(serviceKey);
  if (it != addresses_.end()) {
    for (const Address& a : it->second) disown(a, serviceKey);
    addresses_.erase(it);
  }
  services_.erase(serviceKey);
}

PoolStatus Allocator::poolStatus(const std::string& poolKey) const {
  PoolStatus status;
  auto c = conflicts_.find(poolKey);
  if (c != conflicts_.end()) {
    status.conflicting = true;
    status.conflictReason = c->second;
  }
  for (const Pool& p : pools_) {
    if (p.key == poolKey) status.total = p.total();
  }
  if (auto u = used_.find(poolKey); u != used_.end()) status.used = u->second;
  return status;
}

std::vector<Address> Allocator::addressesOf(const std::string& serviceKey) const {
  auto it = addresses_.find(serviceKey);
  return it == addresses_.end() ? std::vector<Address>{} : it->second;
}

}  // namespace l2a::ipam

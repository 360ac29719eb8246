// Allocator: LB-IPAM's pure core. Holds the pools (with conflicts worked out) and every
// allocation, and decides each Service's addresses: requested ones, ones it already has (kept
// as long as they stay valid, so restarts and pool edits reassign nothing), shared ones (sharing
// key), or the next free address of the first selecting pool. Memory grows with allocations,
// not pool sizes. Not thread-safe: the operator's one reconcile thread owns it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ipam/address.h"
#include "ipam/pool.h"
#include "ipam/service_request.h"

namespace l2a::ipam {

// Reasons of the Service condition l2announcer.io/IPAMRequestSatisfied.
namespace reasons {
inline constexpr const char* kSatisfied = "satisfied";
inline constexpr const char* kNoPool = "no_pool";
inline constexpr const char* kPoolSelectorMismatch = "pool_selector_mismatch";
inline constexpr const char* kOutOfIps = "out_of_ips";
inline constexpr const char* kAlreadyAllocated = "already_allocated";
inline constexpr const char* kIncompatibleService = "already_allocated_incompatible_service";
inline constexpr const char* kInvalidRequest = "invalid_request";
}  // namespace reasons

struct AllocationResult {
  bool handled = false;  // false: not ours (type/class): no addresses, no condition
  std::vector<Address> addresses;
  bool satisfied = false;
  std::string reason;
  std::string message;
};

struct PoolStatus {
  bool conflicting = false;
  std::string conflictReason;
  U128 total = 0;
  U128 used = 0;
};

class Allocator {
 public:
  // The pool may give the Service addresses: its selectors take it (and MetalLB's namespaces),
  // and the Service names no other pool (metallb.io/address-pool). Conflicts and disabled pools
  // aside.
  static bool serves(const Pool& p, const ServiceRequest& s) { return refusal(p, s).empty(); }
  // Why it may not ("" when it may), as explain says it.
  static std::string refusal(const Pool& p, const ServiceRequest& s);

  // Replaces the pools. Conflicts are recomputed (the newer of two overlapping pools, by
  // creationTimestamp then name, is conflicting); allocations are re-homed into any usable pool
  // that still contains them and selects their services, else dropped. Returns the services
  // that lost an address (to be reconciled again).
  std::set<std::string> setPools(std::vector<Pool> pools);

  // Decides `service`'s addresses and records them. With allowNew false only addresses it
  // already has (in memory or in its status) are kept: the import pass before anything new.
  AllocationResult reconcile(const ServiceRequest& service, bool allowNew = true);
  // Frees everything `serviceKey` holds.
  void forget(const std::string& serviceKey);

  PoolStatus poolStatus(const std::string& poolKey) const;
  const std::vector<Pool>& pools() const { return pools_; }
  std::vector<Address> addressesOf(const std::string& serviceKey) const;
  size_t allocationCount() const { return allocations_.size(); }

 private:
  struct Owners {
    std::string pool;
    std::set<std::string> services;
  };
  struct Claim {
    bool ok = false;
    std::string reason;
    std::string message;
  };

  const Pool* usablePoolFor(const Address& a, const ServiceRequest& s) const;
  bool compatibleWithOwners(const Address& a, const ServiceRequest& s) const;
  bool validFor(const Address& a, const ServiceRequest& s) const;
  Claim claimRequested(const Address& a, const ServiceRequest& s);
  std::optional<Address> sharedAddress(bool v6, const ServiceRequest& s) const;
  std::optional<Address> nextFree(const Pool& pool, bool v6);
  Claim allocateNew(bool v6, const ServiceRequest& s, Address& out);
  void own(const Address& a, const std::string& pool, const std::string& service);
  void disown(const Address& a, const std::string& service);
  // Keeps used_ as allocations_ changes: one allocation more (+1) or less (-1) in POOL.
  void count(const std::string& pool, int change);

  std::vector<Pool> pools_;  // by name: the order new addresses are taken in
  std::map<std::string, std::string> conflicts_;  // pool key -> why it is conflicting
  std::map<Address, Owners> allocations_;
  // Pool key -> its allocations: poolStatus() is asked after every reconcile pass (at 10,000
  // allocations, counting them each time was three quarters of the operator's CPU).
  std::map<std::string, U128> used_;
  std::map<std::string, ServiceRequest> services_;  // the last request seen, for sharing checks
  std::map<std::string, std::vector<Address>> addresses_;
  std::map<std::pair<std::string, size_t>, U128> hints_;  // lowest maybe-free per pool range
};

// Whether two Services may share one address (same sharing key, namespaces allowed both ways,
// no port clash, same externalTrafficPolicy, and equal selectors for Local).
bool sharingCompatible(const ServiceRequest& a, const ServiceRequest& b);

}  // namespace l2a::ipam

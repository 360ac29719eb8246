// Announcement records: what l2announcer tells people (and itself) about who announces what.
//   - An L2Announcement object (l2announcer.io/v1alpha1, in the Service's namespace) per
//     Service and address, written by the node announcing it: node, interfaces with their MACs,
//     since when and why (MetalLB's ServiceL2Status is the model). Written only when its node
//     or interfaces change; deleted by that node when it stops announcing and nobody took over.
//     Read back by every agent as the shared record of who holds an address (stickiness, for
//     the addresses a heartbeat cannot list).
//   - The `l2announcer.io/Announced` condition on every Service a policy selects, from the plan
//     every agent computes, written by one live node picked by rendezvous hashing.
// Pure: from plans, claims and the objects as cached to the objects and patches to write.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/cluster_view.h"
#include "common/flat_map.h"
#include "k8s/object_meta.h"
#include "policy/assignment.h"

namespace l2a::agent {

inline constexpr const char* kAnnouncedCondition = "l2announcer.io/Announced";
inline constexpr const char* kRecordNodeLabel = "l2announcer.io/node";
inline constexpr const char* kRecordServiceLabel = "l2announcer.io/service-name";

// The interfaces an address is announced on (name, MAC): one list shared by the claims of the
// addresses announced on the same ones (thousands at 10,000 Services: a copy each took 80 bytes).
using ClaimInterfaces = std::vector<std::pair<std::string, std::string>>;

// One address this node announces: on which interfaces, since when (written as RFC 3339, whole
// seconds) and why it came here (a take-over cause, agent.h).
struct Claim {
  std::string address;
  std::shared_ptr<const ClaimInterfaces> interfaces;  // null: none
  std::chrono::system_clock::time_point since;
  std::string cause;
  bool operator==(const Claim& o) const {
    auto none = [](const std::shared_ptr<const ClaimInterfaces>& i) { return !i || i->empty(); };
    bool sameInterfaces = interfaces == o.interfaces || (none(interfaces) && none(o.interfaces)) ||
                          (interfaces && o.interfaces && *interfaces == *o.interfaces);
    return address == o.address && sameInterfaces && since == o.since && cause == o.cause;
  }
};

// "<service>-<address>", the address's ':' as '-' (a DNS subdomain name).
std::string recordName(const std::string& serviceName, const std::string& address);
// A node name as a label value: itself when it is one, else "h-" and a hash of it.
std::string nodeLabelValue(const std::string& node);

// The L2Announcement this node wants for Service `serviceKey` (namespace/name, `uid` for the
// owner reference: the garbage collector deletes it with the Service) and one of its claims.
nlohmann::json desiredRecord(const std::string& serviceKey, const std::string& uid, const std::string& node,
                             const Claim& claim);

// One record this node wants: what it is made from (built again by record() when it is
// written) and a 64-bit hash of what decides a write (its node label, node, address, Service
// and interfaces — not when, not why). The claim is shared by the records of its address.
// Packed whole (MessagePack), each took about 470 bytes: an agent holds thousands between passes.
struct DesiredRecord {
  std::string serviceKey;
  k8s::Uid uid;
  std::shared_ptr<const Claim> claim;
  uint64_t meaning = 0;
  nlohmann::json record(const std::string& node) const;
  bool operator==(const DesiredRecord& o) const {
    return serviceKey == o.serviceKey && uid == o.uid && meaning == o.meaning &&
           (claim == o.claim || (claim && o.claim && *claim == *o.claim));
  }
};
DesiredRecord wantRecord(const std::string& serviceKey, const std::string& uid, const std::string& node,
                         std::shared_ptr<const Claim> claim);
// "namespace/name" -> the record.
using DesiredRecords = std::map<std::string, DesiredRecord>;

// What an agent keeps of a cached record, any node's: who holds which address, the
// resourceVersion a deletion of one of ours is made on, and of NODE's own the hash of what
// decides a write (0 for the others'). Fields a record lacks are "".
struct HeldRecord {
  std::string address, node, resourceVersion;
  uint64_t meaning = 0;
  // Noted without counting as a change: it named the owner the last plan chose (AnnouncementStatus
  // checks it again against the next plan).
  bool uncounted = false;
  bool operator==(const HeldRecord&) const = default;
};
HeldRecord heldRecord(const nlohmann::json& record, const std::string& node);
// Key -> what is kept of each record cached (10,000 at 10,000 Services: a FlatMap).
using HeldRecords = common::FlatMap<std::string, HeldRecord>;

struct RecordWrites {
  std::vector<std::string> apply;                               // keys of `desired`: create, or patch in place
  std::vector<std::pair<std::string, std::string>> remove;      // "namespace/name", resourceVersion
};
// From what this node wants and the records as held (key -> what is kept of each): what to
// write. A record is rewritten only when its node, address, Service or interfaces differ (not
// for its time); one naming this node that it no longer wants is deleted, on its
// resourceVersion (a node that took it over meanwhile keeps it). No record is unpacked.
RecordWrites recordWrites(const DesiredRecords& desired, const HeldRecords& held,
                          const std::string& node);

// Address -> the nodes the cached records name (malformed ones are skipped).
std::map<std::string, std::set<std::string>> recordHolders(const std::vector<nlohmann::json>& cached);

// The Announced condition for a Service from the plans of its addresses (none: no policy
// selects any of them): True when every address has an owner, with who announces each.
nlohmann::json announcedCondition(const std::vector<const policy::PlannedAddress*>& plans);
// What the agent keeps of the Announced condition a Service carries (written once, kept up to
// date until the Service is gone): enough to tell whether a wanted one says the same, and the
// lastTransitionTime to keep when its status stays — not the message (10,000 of them).
struct StoredCondition {
  uint64_t status = 0;  // a hash of its status as JSON text (64 bits)
  uint64_t said = 0;    // a hash of its status, reason and message as JSON text (64 bits)
  // lastTransitionTime, as packTransitionTime() keeps it.
  std::string transition;
  // As the Service carries it ("" when it is not a string).
  std::string lastTransitionTime() const;
  bool operator==(const StoredCondition&) const = default;
};
// A lastTransitionTime as kept per Service: kube-apiserver's form (UTC, whole seconds:
// 2026-12-07T18:00:00Z) as its 14 digits, which a std::string holds in its own buffer (no
// allocation each for 10,000 Services); any other text as it is, after '='.
std::string packTransitionTime(std::string_view time);
std::string unpackTransitionTime(std::string_view packed);
// Nothing when the Service carries no Announced condition.
std::optional<StoredCondition> storedAnnouncedCondition(const nlohmann::json& service);
// The strategic merge patch setting `condition` on a Service's status (merged by type: other
// conditions stay), or null when the stored one says the same. lastTransitionTime is `now`
// when the status changes, else kept.
nlohmann::json conditionPatch(const std::optional<StoredCondition>& stored, const nlohmann::json& condition,
                              const std::string& now);

}  // namespace l2a::agent

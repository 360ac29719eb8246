#include "agent/announcement_records.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "common/timestamps.h"
#include "k8s/projection.h"
#include "policy/rendezvous.h"

namespace l2a::agent {
namespace {

using Json = nlohmann::json;

// Field access that never throws, whatever type a stored object gives a field.
const Json& member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string text(const Json& value) { return value.is_string() ? value.get<std::string>() : std::string(); }

// What a record says that matters (not when, not why): compared to decide on a write.
std::string meaning(const Json& object) {
  const Json& status = member(object, "status");
  return fmt::format("{}|{}|{}|{}|{}", text(member(member(member(object, "metadata"), "labels"), kRecordNodeLabel)),
                     text(member(status, "node")), text(member(status, "address")), text(member(status, "serviceName")),
                     member(status, "interfaces").dump());
}

bool validLabelValue(const std::string& value) {
  if (value.empty()) return true;
  if (value.size() > 63 || !std::isalnum(static_cast<unsigned char>(value.front())) ||
      !std::isalnum(static_cast<unsigned char>(value.back()))) {
    return false;
  }
  return std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

std::string recordName(const std::string& serviceName, const std::string& address) {
  std::string out = serviceName + "-" + address;
  std::replace(out.begin(), out.end(), ':', '-');
  if (!out.empty() && out.back() == '-') out += '0';  // "2001:db8::" ends in '-': not a valid name
  return out;
}

std::string nodeLabelValue(const std::string& node) {
  if (validLabelValue(node)) return node;
  return fmt::format("h-{:016x}", policy::stableHash(node, "node-label"));
}

Json desiredRecord(const std::string& serviceKey, const std::string& uid, const std::string& node, const Claim& claim) {
  auto slash = serviceKey.find('/');
  std::string ns = serviceKey.substr(0, slash);
  std::string name = slash == std::string::npos ? serviceKey : serviceKey.substr(slash + 1);
  Json interfaces = Json::array();
  std::vector<std::string> names, macs;
  static const ClaimInterfaces kNone;
  for (const auto& [interface, mac] : claim.interfaces ? *claim.interfaces : kNone) {
    interfaces.push_back({{"name", interface}, {"mac", mac}});
    names.push_back(interface);
    macs.push_back(mac);
  }
  Json object{{"apiVersion", "l2announcer.io/v1alpha1"},
              {"kind", "L2Announcement"},
              {"metadata",
               {{"name", recordName(name, claim.address)},
                {"namespace", ns},
                {"labels", {{kRecordNodeLabel, nodeLabelValue(node)}, {kRecordServiceLabel, name}}}}},
              {"status",
               {{"serviceName", name},
                {"address", claim.address},
                {"node", node},
                {"interfaces", interfaces},
                {"interfaceNames", fmt::format("{}", fmt::join(names, ","))},
                {"macs", fmt::format("{}", fmt::join(macs, ","))},
                {"since", common::rfc3339(claim.since)},
                {"cause", claim.cause}}}};
  if (!uid.empty()) {
    object["metadata"]["ownerReferences"] = Json::array(
        {{{"apiVersion", "v1"}, {"kind", "Service"}, {"name", name}, {"uid", uid}}});
  }
  return object;
}

Json DesiredRecord::record(const std::string& node) const {
  return claim ? desiredRecord(serviceKey, uid.str(), node, *claim) : Json();
}

DesiredRecord wantRecord(const std::string& serviceKey, const std::string& uid, const std::string& node,
                         std::shared_ptr<const Claim> claim) {
  DesiredRecord wanted{.serviceKey = serviceKey, .uid = k8s::Uid(uid), .claim = std::move(claim)};
  wanted.meaning = std::hash<std::string>{}(meaning(wanted.record(node)));
  return wanted;
}

HeldRecord heldRecord(const Json& record, const std::string& node) {
  const Json& status = member(record, "status");
  HeldRecord held{.address = text(member(status, "address")),
                  .node = text(member(status, "node")),
                  .resourceVersion = text(member(member(record, "metadata"), "resourceVersion"))};
  if (held.node == node) held.meaning = std::hash<std::string>{}(meaning(record));
  return held;
}

RecordWrites recordWrites(const DesiredRecords& desired, const HeldRecords& held,
                          const std::string& node) {
  RecordWrites out;
  for (const auto& [key, wanted] : desired) {
    auto it = held.find(key);
    if (it == held.end() || it->second.node != node || it->second.meaning != wanted.meaning) out.apply.push_back(key);
  }
  for (const auto& [key, record] : held) {
    if (record.node == node && !desired.count(key)) out.remove.emplace_back(key, record.resourceVersion);
  }
  return out;
}

std::map<std::string, std::set<std::string>> recordHolders(const std::vector<Json>& cached) {
  std::map<std::string, std::set<std::string>> out;
  for (const Json& object : cached) {
    const Json& status = member(object, "status");
    std::string address = text(member(status, "address")), node = text(member(status, "node"));
    if (!address.empty() && !node.empty()) out[address].insert(node);
  }
  return out;
}

Json announcedCondition(const std::vector<const policy::PlannedAddress*>& plans) {
  if (plans.empty()) {
    return {{"type", kAnnouncedCondition},
            {"status", "False"},
            {"reason", "NotSelected"},
            {"message", "no L2 announcement policy selects an address of this Service"}};
  }
  std::vector<std::string> announced, unowned;
  for (const policy::PlannedAddress* planned : plans) {
    const auto& [address, plan] = *planned;
    if (plan.owner().empty()) {
      unowned.push_back(address);
    } else {
      announced.push_back(fmt::format("{} by {}", address, plan.owner()));
    }
  }
  std::sort(announced.begin(), announced.end());
  std::sort(unowned.begin(), unowned.end());
  if (unowned.empty()) {
    return {{"type", kAnnouncedCondition},
            {"status", "True"},
            {"reason", "Announced"},
            {"message", fmt::format("{}", fmt::join(announced, ", "))}};
  }
  std::string message = fmt::format("no node may announce {} (l2a explain says why)", fmt::join(unowned, ", "));
  if (!announced.empty()) message += fmt::format("; {}", fmt::join(announced, ", "));
  return {{"type", kAnnouncedCondition}, {"status", "False"}, {"reason", "NoCandidateNode"}, {"message", message}};
}

namespace {
// Status, reason and message of a condition as JSON text (any field may have any type).
uint64_t saidBy(const Json& condition) {
  std::string said;
  for (const char* field : {"status", "reason", "message"}) said += member(condition, field).dump() + '\n';
  return std::hash<std::string>{}(said);
}
}  // namespace

std::string packTransitionTime(std::string_view time) {
  if (time.empty()) return "";
  // Digits where the pattern has '9', the pattern's own character elsewhere.
  constexpr std::string_view kPattern = "9999-99-99T99:99:99Z";
  bool canonical = time.size() == kPattern.size();
  std::string digits;
  for (size_t i = 0; canonical && i < time.size(); ++i) {
    if (kPattern[i] == '9') {
      canonical = std::isdigit(static_cast<unsigned char>(time[i])) != 0;
      digits += time[i];
    } else {
      canonical = time[i] == kPattern[i];
    }
  }
  return canonical ? digits : "=" + std::string(time);
}

std::string unpackTransitionTime(std::string_view packed) {
  if (packed.empty()) return "";
  if (packed[0] == '=') return std::string(packed.substr(1));
  // The 14 digits of YYYY-MM-DDTHH:MM:SSZ.
  return fmt::format("{}-{}-{}T{}:{}:{}Z", packed.substr(0, 4), packed.substr(4, 2), packed.substr(6, 2),
                     packed.substr(8, 2), packed.substr(10, 2), packed.substr(12, 2));
}

std::string StoredCondition::lastTransitionTime() const { return unpackTransitionTime(transition); }

namespace {
uint64_t statusOf(const Json& condition) { return std::hash<std::string>{}(member(condition, "status").dump()); }
}  // namespace

std::optional<StoredCondition> storedAnnouncedCondition(const Json& service) {
  const Json& conditions = member(member(service, "status"), "conditions");
  if (!conditions.is_array()) return std::nullopt;
  for (const Json& c : conditions) {
    if (text(member(c, "type")) != kAnnouncedCondition) continue;
    return StoredCondition{.status = statusOf(c),
                           .said = saidBy(c),
                           .transition = packTransitionTime(text(member(c, "lastTransitionTime")))};
  }
  return std::nullopt;
}

Json conditionPatch(const std::optional<StoredCondition>& stored, const Json& condition, const std::string& now) {
  Json wanted = condition;
  std::string transition = now;
  if (stored) {
    if (stored->said == saidBy(condition)) return nullptr;
    if (stored->status == statusOf(condition) && !stored->transition.empty()) {
      transition = stored->lastTransitionTime();
    }
  }
  wanted["lastTransitionTime"] = transition;
  return {{"status", {{"conditions", Json::array({wanted})}}}};
}

}  // namespace l2a::agent

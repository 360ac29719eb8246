#include "ipam/status_patches.h"

#include <fmt/format.h>

namespace l2a::ipam {
namespace {

using Json = nlohmann::json;

// A member of an object, or `fallback` when the object is not an object or lacks it: stored
// objects are read without ever throwing.
Json member(const Json& object, const char* key, Json fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it == object.end() ? fallback : *it;
}

// Replaces in place (or removes, when `condition` is null, or appends) the condition of `type`
// in a list, keeping lastTransitionTime when the status did not change.
Json withCondition(const Json& conditions, const std::string& type, const Json& condition,
                   const std::string& now) {
  Json out = Json::array();
  bool placed = false;
  auto stamped = [&](const Json& previous) {
    Json c = condition;
    c["type"] = type;
    Json time = member(previous, "lastTransitionTime", nullptr);
    bool keep = member(previous, "status", nullptr) == member(c, "status", "") && time.is_string();
    c["lastTransitionTime"] = keep ? time : Json(now);
    return c;
  };
  for (const Json& c : conditions.is_array() ? conditions : Json::array()) {
    if (member(c, "type", "") != type) {
      out.push_back(c);
    } else if (!condition.is_null() && !placed) {
      out.push_back(stamped(c));
      placed = true;
    }
  }
  if (!condition.is_null() && !placed) out.push_back(stamped(nullptr));
  return out;
}

// Conditions compared without their timestamps (a rewrite only for real changes).
Json withoutTimes(Json conditions) {
  if (!conditions.is_array()) return Json::array();
  for (Json& c : conditions) {
    if (c.is_object()) c.erase("lastTransitionTime");
  }
  return conditions;
}

}  // namespace

std::vector<std::string> ingressAddresses(const Json& service) {
  Json ingress = member(member(member(service, "status", nullptr), "loadBalancer", nullptr), "ingress", nullptr);
  std::vector<std::string> out;
  for (const Json& i : ingress.is_array() ? ingress : Json::array()) {
    Json ip = member(i, "ip", "");
    out.push_back(ip.is_string() ? ip.get<std::string>() : "");
  }
  return out;
}

std::string conditionReason(const Json& object, const std::string& type) {
  Json conditions = member(member(object, "status", nullptr), "conditions", nullptr);
  for (const Json& c : conditions.is_array() ? conditions : Json::array()) {
    Json reason = member(c, "reason", nullptr);
    if (member(c, "type", "") == type && reason.is_string()) return reason;
  }
  return "";
}

bool poolConflicting(const Json& pool) {
  Json status = member(pool, "status", nullptr);
  if (member(status, "conflicting", nullptr) == "True") return true;
  for (const Json& c : member(status, "conditions", Json::array()).is_array() ? member(status, "conditions", Json::array())
                                                                             : Json::array()) {
    Json type = member(c, "type", nullptr);
    if ((type == "PoolConflict" || type == "cilium.io/PoolConflict") && member(c, "status", nullptr) == "True") return true;
  }
  return false;
}

Json serviceStatusPatch(const Json& service, const AllocationResult& result, const std::string& now) {
  Json status = member(service, "status", Json::object());
  Json conditions = member(status, "conditions", Json::array());
  if (!conditions.is_array()) conditions = Json::array();
  bool ours = std::any_of(conditions.begin(), conditions.end(),
                          [](const Json& c) { return member(c, "type", "") == kConditionType; });
  if (!result.handled && !ours) return nullptr;  // never touch Services of other implementations
  if (result.handled && result.reason == "pending") return nullptr;

  Json ingress = Json::array();
  std::vector<std::string> wanted;
  for (const Address& a : result.addresses) {
    wanted.push_back(a.toString());
    ingress.push_back({{"ip", wanted.back()}});
  }
  Json condition;
  if (result.handled) {
    Json generation = member(member(service, "metadata", Json::object()), "generation", 1);
    condition = {{"status", result.satisfied ? "True" : "False"},
                 {"reason", result.reason},
                 {"message", result.message},
                 {"observedGeneration", generation.is_number_integer() ? generation : Json(1)}};
  }
  Json newConditions = withCondition(conditions, kConditionType, condition, now);
  if (ingressAddresses(service) == wanted && withoutTimes(newConditions) == withoutTimes(conditions)) {
    return nullptr;
  }
  return {{"status", {{"loadBalancer", {{"ingress", ingress}}}, {"conditions", newConditions}}}};
}

Json poolStatusPatch(const Json& pool, const std::string& group, const Pool& parsed,
                     const PoolStatus& counts, const std::string& now) {
  bool cilium = group == "cilium.io";
  std::string prefix = cilium ? "cilium.io/" : "";
  U128 available = counts.total >= counts.used ? counts.total - counts.used : 0;
  Json current = member(pool, "status", Json::object());
  Json conditions = member(current, "conditions", Json::array());
  auto count = [](U128 n) { return Json{{"status", "Unknown"}, {"reason", "noreason"}, {"message", u128ToString(n)}}; };
  conditions = withCondition(conditions, prefix + "IPsTotal", count(counts.total), now);
  conditions = withCondition(conditions, prefix + "IPsAvailable", count(available), now);
  conditions = withCondition(conditions, prefix + "IPsUsed", count(counts.used), now);
  conditions = withCondition(conditions, prefix + "PoolConflict",
                             {{"status", counts.conflicting ? "True" : "False"},
                              {"reason", counts.conflicting ? "Overlap" : "NoConflict"},
                              {"message", counts.conflicting ? counts.conflictReason : "no overlap with other pools"}},
                             now);
  conditions = withCondition(conditions, prefix + "BlocksValid",
                             {{"status", parsed.errors.empty() ? "True" : "False"},
                              {"reason", parsed.errors.empty() ? "Valid" : "InvalidBlocks"},
                              {"message", parsed.errors.empty() ? "every block is valid"
                                                                : fmt::format("{}", fmt::join(parsed.errors, "; "))}},
                             now);
  Json status{{"conditions", conditions}};
  if (!cilium) {
    status["conflicting"] = counts.conflicting ? "True" : "False";
    status["ipsTotal"] = u128ToString(counts.total);
    status["ipsAvailable"] = u128ToString(available);
    status["ipsUsed"] = u128ToString(counts.used);
  }
  // Compare only the fields written: whatever else the stored status holds is not ours.
  bool same = true;
  for (const auto& [key, value] : status.items()) {
    Json stored = member(current, key.c_str(), nullptr);
    same = same && (key == "conditions" ? withoutTimes(stored) == withoutTimes(value) : stored == value);
  }
  return same ? Json(nullptr) : Json{{"status", status}};
}

}  // namespace l2a::ipam

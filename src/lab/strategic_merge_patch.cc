#include "lab/strategic_merge_patch.h"

#include <algorithm>
#include <string>

namespace l2a::lab {
namespace {

using Json = nlohmann::json;

bool matchesKeys(const Json& item, const Json& keys) {
  if (!item.is_object() || !keys.is_object()) return item == keys;
  for (const auto& [k, v] : keys.items()) {
    if (!item.contains(k) || item[k] != v) return false;
  }
  return true;
}

bool isDelete(const Json& item) {
  return item.is_object() && item.value("$patch", "") == "delete";
}

// Items keyed by `type`: the merge key Kubernetes' built-in kinds give their conditions.
bool keyedByType(const std::string& field, const Json& patchList) {
  return field == "conditions" && std::all_of(patchList.begin(), patchList.end(), [](const Json& item) {
           return item.is_object() && item.contains("type") && item["type"].is_string();
         });
}

Json mergeByType(const Json& original, const Json& patchList) {
  Json out = original.is_array() ? original : Json::array();
  for (const Json& item : patchList) {
    auto same = std::find_if(out.begin(), out.end(), [&](const Json& o) { return o.is_object() && o.value("type", Json()) == item["type"]; });
    if (isDelete(item)) {
      if (same != out.end()) out.erase(same);
    } else if (same != out.end()) {
      *same = applyStrategicMergePatch(*same, item);
    } else {
      out.push_back(item);
    }
  }
  return out;
}

Json mergeList(const Json& original, const Json& patchList, const Json* order, const std::string& field) {
  if (order == nullptr && keyedByType(field, patchList)) return mergeByType(original, patchList);
  if (order == nullptr) {
    // No order given: the patch list replaces the list, directives removed.
    Json out = Json::array();
    for (const Json& item : patchList) {
      if (!isDelete(item)) out.push_back(item);
    }
    return out;
  }
  Json out = Json::array();
  for (const Json& keys : *order) {
    const Json* fromPatch = nullptr;
    const Json* fromOriginal = nullptr;
    for (const Json& p : patchList) {
      if (!isDelete(p) && matchesKeys(p, keys)) fromPatch = &p;
    }
    if (original.is_array()) {
      for (const Json& o : original) {
        if (matchesKeys(o, keys)) fromOriginal = &o;
      }
    }
    if (!keys.is_object()) {
      out.push_back(keys);  // a primitive list: the order is the list
    } else if (fromOriginal && fromPatch) {
      out.push_back(applyStrategicMergePatch(*fromOriginal, *fromPatch));
    } else if (fromPatch) {
      out.push_back(*fromPatch);
    } else if (fromOriginal) {
      out.push_back(*fromOriginal);
    }
  }
  return out;
}

}  // namespace

Json applyStrategicMergePatch(const Json& original, const Json& patch) {
  if (!patch.is_object()) return patch;
  if (patch.value("$patch", "") == "replace") {
    Json out = patch;
    out.erase("$patch");
    return out;
  }
  Json out = original.is_object() ? original : Json::object();
  for (const auto& [key, value] : patch.items()) {
    if (key == "$patch" || key == "$retainKeys" || key.rfind("$setElementOrder/", 0) == 0) continue;
    if (key.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string field = key.substr(25);
      if (out.contains(field) && out[field].is_array()) {
        Json kept = Json::array();
        for (const Json& v : out[field]) {
          bool remove = false;
          for (const Json& d : value) remove = remove || v == d;
          if (!remove) kept.push_back(v);
        }
        out[field] = kept;
      }
      continue;
    }
    if (value.is_null() || isDelete(value)) {
      out.erase(key);
    } else if (value.is_object()) {
      out[key] = applyStrategicMergePatch(out.contains(key) ? out[key] : Json(), value);
    } else if (value.is_array()) {
      std::string orderKey = "$setElementOrder/" + key;
      const Json* order = patch.contains(orderKey) ? &patch[orderKey] : nullptr;
      out[key] = mergeList(out.contains(key) ? out[key] : Json(), value, order, key);
    } else {
      out[key] = value;
    }
  }
  // A list that only changed its order (or only lost items) appears only as $setElementOrder.
  for (const auto& [key, value] : patch.items()) {
    if (key.rfind("$setElementOrder/", 0) != 0) continue;
    std::string field = key.substr(17);
    if (!patch.contains(field)) out[field] = mergeList(out.contains(field) ? out[field] : Json(), Json::array(), &value, field);
  }
  return out;
}

}  // namespace l2a::lab

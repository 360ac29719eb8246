#include "k8s/label_selector.h"

#include <fmt/format.h>

#include <algorithm>

namespace l2a::k8s {

Result<LabelSelector> LabelSelector::fromJson(const nlohmann::json& selector) {
  LabelSelector out;
  if (selector.is_null()) return out;
  if (!selector.is_object()) return fail("invalid_selector", "selector is not an object");
  if (selector.contains("matchLabels")) {
    const auto& labels = selector["matchLabels"];
    if (!labels.is_object() && !labels.is_null()) return fail("invalid_selector", "matchLabels is not a map");
    if (labels.is_object()) {
      for (const auto& [k, v] : labels.items()) {
        if (!v.is_string()) return fail("invalid_selector", fmt::format("matchLabels[{}] is not a string", k));
        out.expressions_.push_back({k, "In", {v.get<std::string>()}});
      }
    }
  }
  if (selector.contains("matchExpressions") && !selector["matchExpressions"].is_null()) {
    const auto& exprs = selector["matchExpressions"];
    if (!exprs.is_array()) return fail("invalid_selector", "matchExpressions is not a list");
    for (const auto& e : exprs) {
      if (!e.is_object() || !e.contains("key") || !e["key"].is_string() || !e.contains("operator") ||
          !e["operator"].is_string()) {
        return fail("invalid_selector", "a matchExpression needs a key and an operator");
      }
      Expression x{e["key"], e["operator"], {}};
      if (e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"]) {
          if (!v.is_string()) return fail("invalid_selector", fmt::format("values of {} must be strings", x.key));
          x.values.push_back(v);
        }
      }
      if (x.op == "In" || x.op == "NotIn") {
        if (x.values.empty()) return fail("invalid_selector", fmt::format("{} {} needs values", x.key, x.op));
      } else if (x.op == "Exists" || x.op == "DoesNotExist") {
        if (!x.values.empty()) return fail("invalid_selector", fmt::format("{} {} takes no values", x.key, x.op));
      } else {
        return fail("invalid_selector", fmt::format("unknown operator '{}'", x.op));
      }
      out.expressions_.push_back(std::move(x));
    }
  }
  return out;
}

template <class Find>
bool LabelSelector::matchesWith(const Find& find) const {
  for (const Expression& e : expressions_) {
    auto value = find(e.key);
    bool has = static_cast<bool>(value);
    bool in = has && std::find(e.values.begin(), e.values.end(), *value) != e.values.end();
    if (e.op == "In" && !in) return false;
    if (e.op == "NotIn" && in) return false;
    if (e.op == "Exists" && !has) return false;
    if (e.op == "DoesNotExist" && has) return false;
  }
  return true;
}

bool LabelSelector::matches(const Labels& labels) const {
  return matchesWith([&](const std::string& key) -> const std::string* {
    auto it = labels.find(key);
    return it == labels.end() ? nullptr : &it->second;
  });
}

bool LabelSelector::matchesLabel(const LabelLookup& label) const { return matchesWith(label); }

Labels labelsOf(const nlohmann::json& object) {
  Labels out;
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return out;
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return out;
  for (const auto& [k, v] : l->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace l2a::k8s

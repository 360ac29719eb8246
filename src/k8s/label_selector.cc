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

PackedLabels::PackedLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  for (const auto& [name, value] : labels) add(name, value);
  bytes_.shrink_to_fit();
}

PackedLabels::PackedLabels(const Labels& labels) {
  for (const auto& [name, value] : labels) add(name, value);
  bytes_.shrink_to_fit();
}

void PackedLabels::add(std::string_view name, std::string_view value) {
  for (std::string_view part : {name, value}) {
    for (size_t n = part.size(); ; n >>= 7) {
      bytes_.push_back(static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
      if (n <= 0x7f) break;
    }
    bytes_.append(part);
  }
}

std::optional<std::string_view> PackedLabels::find(std::string_view name) const {
  std::string_view rest = bytes_;
  // The next length-prefixed part of `rest`; nullopt at the end (packed here: never short).
  auto next = [&rest]() -> std::optional<std::string_view> {
    size_t n = 0;
    for (int shift = 0; !rest.empty(); shift += 7) {
      auto byte = static_cast<unsigned char>(rest.front());
      rest.remove_prefix(1);
      n |= static_cast<size_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        if (n > rest.size()) return std::nullopt;
        std::string_view part = rest.substr(0, n);
        rest.remove_prefix(n);
        return part;
      }
    }
    return std::nullopt;
  };
  while (auto key = next()) {
    auto value = next();
    if (!value) break;
    if (*key == name) return value;
  }
  return std::nullopt;
}

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

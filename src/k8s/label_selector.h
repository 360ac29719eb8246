// LabelSelector: a metav1.LabelSelector (matchLabels + matchExpressions with In, NotIn, Exists,
// DoesNotExist), parsed from an object's JSON and matched against a label map. Pure and
// immutable after parse; safe to share.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace l2a::k8s {

using Labels = std::map<std::string, std::string>;
// A label's value by its key, nullopt when the object has none: for labels kept in another form
// than a map (a Service's, whose io.kubernetes.service.* pseudo-labels come from its key).
using LabelLookup = std::function<std::optional<std::string_view>(const std::string& key)>;

class LabelSelector {
 public:
  // null/absent and {} select everything. Error code "invalid_selector" with the reason.
  static Result<LabelSelector> fromJson(const nlohmann::json& selector);
  bool matches(const Labels& labels) const;
  bool matchesLabel(const LabelLookup& label) const;
  bool selectsEverything() const { return expressions_.empty(); }
  bool operator==(const LabelSelector&) const = default;

 private:
  struct Expression {
    std::string key;
    std::string op;  // In, NotIn, Exists, DoesNotExist
    std::vector<std::string> values;
    bool operator==(const Expression&) const = default;
  };
  // FIND(key) -> a pointer-like value (null when absent).
  template <class Find>
  bool matchesWith(const Find& find) const;
  std::vector<Expression> expressions_;
};

// metadata.labels of an object as a map (non-string values ignored).
Labels labelsOf(const nlohmann::json& object);

// Labels packed in one string, each name and value as its length (LEB128) then its bytes: one
// allocation per object, where a vector of string pairs made one or three per label — for the
// 10,000 Services every agent keeps. Any bytes, none lost; looked up by a linear scan (a
// Service has a handful).
class PackedLabels {
 public:
  PackedLabels() = default;
  PackedLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> labels);
  explicit PackedLabels(const Labels& labels);
  std::optional<std::string_view> find(std::string_view name) const;
  bool empty() const { return bytes_.empty(); }
  bool operator==(const PackedLabels&) const = default;

 private:
  void add(std::string_view name, std::string_view value);
  std::string bytes_;
};

}  // namespace l2a::k8s

// LabelSelector: a metav1.LabelSelector (matchLabels + matchExpressions with In, NotIn, Exists,
// DoesNotExist), parsed from an object's JSON and matched against a label map. Pure and
// immutable after parse; safe to share.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace l2a::k8s {

using Labels = std::map<std::string, std::string>;

class LabelSelector {
 public:
  // null/absent and {} select everything. Error code "invalid_selector" with the reason.
  static Result<LabelSelector> fromJson(const nlohmann::json& selector);
  bool matches(const Labels& labels) const;
  bool selectsEverything() const { return expressions_.empty(); }

 private:
  struct Expression {
    std::string key;
    std::string op;  // In, NotIn, Exists, DoesNotExist
    std::vector<std::string> values;
  };
  std::vector<Expression> expressions_;
};

// metadata.labels of an object as a map (non-string values ignored).
Labels labelsOf(const nlohmann::json& object);

}  // namespace l2a::k8s

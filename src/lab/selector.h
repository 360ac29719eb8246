// Label and field selectors in their query-string form (labelSelector=, fieldSelector=), as the
// lab API server filters lists and watches. Parse once, match many; immutable after parse.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace l2a::lab {

class LabelSelector {
 public:
  // "a=b,c!=d,e in (x,y),f notin (z),g,!h"; empty selects everything. Error code "invalid".
  static Result<LabelSelector> parse(const std::string& text);
  bool matches(const nlohmann::json& labels) const;  // labels: a JSON object or null
  bool everything() const { return requirements_.empty(); }

 private:
  struct Requirement {
    enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists } op;
    std::string key;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  // "metadata.name=x,spec.nodeName!=y": dotted paths compared as strings (missing = "").
  static Result<FieldSelector> parse(const std::string& text);
  bool matches(const nlohmann::json& object) const;
  bool everything() const { return requirements_.empty(); }

 private:
  struct Requirement {
    std::vector<std::string> path;
    bool equals;
    std::string value;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace l2a::lab

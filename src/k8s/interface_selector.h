// InterfaceSelector: which interfaces a set of regular expressions names. Patterns are searched
// in the name (as Cilium's L2 policies do: anchor with ^...$ for an exact name) and OR-ed; an
// empty list selects every interface. Immutable after create(); safe to share across threads.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace l2a::k8s {

class InterfaceSelector {
 public:
  // Fails with code "bad_regex" naming the first pattern that does not compile.
  static Result<InterfaceSelector> create(const std::vector<std::string>& patterns);
  InterfaceSelector() = default;  // selects every interface

  bool matches(std::string_view name) const;
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
  std::vector<std::regex> compiled_;
};

}  // namespace l2a::k8s

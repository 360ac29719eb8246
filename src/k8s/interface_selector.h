// InterfaceSelector: which interfaces a set of regular expressions names. Patterns use RE2's
// syntax — the syntax of Go's regexp package, which Cilium's L2 policies are written in, so
// `(?i)eth` and `\z` mean what they mean there — and match in time linear in the name. They are
// searched in the name (anchor with ^...$ for an exact name) and OR-ed; an empty list selects
// every interface. Immutable after create(); safe to share and use across threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace re2 {
class RE2;
}

namespace l2a::k8s {

class InterfaceSelector {
 public:
  // Fails with code "bad_regex" naming the first pattern that does not compile, and why.
  static Result<InterfaceSelector> create(const std::vector<std::string>& patterns);
  InterfaceSelector() = default;  // selects every interface
  // The pattern that names exactly this interface (MetalLB's interfaces are names, not patterns).
  static std::string exact(std::string_view name);

  bool matches(std::string_view name) const;
  const std::vector<std::string>& patterns() const { return patterns_; }
  // The same patterns select the same interfaces (the compiled forms are not compared).
  bool operator==(const InterfaceSelector& o) const { return patterns_ == o.patterns_; }

 private:
  std::vector<std::string> patterns_;
  std::vector<std::shared_ptr<const re2::RE2>> compiled_;  // RE2 is thread-safe once built
};

}  // namespace l2a::k8s

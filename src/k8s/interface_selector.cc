#include "k8s/interface_selector.h"

#include <fmt/format.h>

namespace l2a::k8s {

Result<InterfaceSelector> InterfaceSelector::create(const std::vector<std::string>& patterns) {
  InterfaceSelector selector;
  for (const std::string& pattern : patterns) {
    try {
      selector.compiled_.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return fail("bad_regex", fmt::format("invalid interface regex '{}': {}", pattern, e.what()));
    }
    selector.patterns_.push_back(pattern);
  }
  return selector;
}

bool InterfaceSelector::matches(std::string_view name) const {
  if (compiled_.empty()) return true;
  for (const std::regex& re : compiled_) {
    if (std::regex_search(name.begin(), name.end(), re)) return true;
  }
  return false;
}

}  // namespace l2a::k8s

#include "k8s/interface_selector.h"

#include <fmt/format.h>
#include <re2/re2.h>

namespace l2a::k8s {

std::string InterfaceSelector::exact(std::string_view name) {
  return "^" + RE2::QuoteMeta(re2::StringPiece(name.data(), name.size())) + "$";
}

Result<InterfaceSelector> InterfaceSelector::create(const std::vector<std::string>& patterns) {
  InterfaceSelector selector;
  RE2::Options options;
  options.set_log_errors(false);  // the error is returned, not written to stderr
  for (const std::string& pattern : patterns) {
    auto re = std::make_shared<const RE2>(pattern, options);
    if (!re->ok()) {
      return fail("bad_regex", fmt::format("invalid interface regex '{}': {}", pattern, re->error()));
    }
    selector.compiled_.push_back(std::move(re));
    selector.patterns_.push_back(pattern);
  }
  return selector;
}

bool InterfaceSelector::matches(std::string_view name) const {
  if (compiled_.empty()) return true;
  for (const auto& re : compiled_) {
    if (RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), *re)) return true;
  }
  return false;
}

}  // namespace l2a::k8s

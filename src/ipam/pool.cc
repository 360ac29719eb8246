#include "ipam/pool.h"

#include "kube/client.h"

#include <fmt/format.h>

namespace l2a::ipam {
namespace {

std::optional<Range> parseCidr(const std::string& text, bool allowFirstLast, std::string& error) {
  auto slash = text.find('/');
  if (slash == std::string::npos) {
    error = fmt::format("invalid CIDR '{}': no prefix length", text);
    return std::nullopt;
  }
  auto base = Address::parse(text.substr(0, slash));
  std::string prefixText = text.substr(slash + 1);
  int bits = 0;
  bool digits = !prefixText.empty() && prefixText.size() <= 3 &&
                prefixText.find_first_not_of("0123456789") == std::string::npos;
  if (digits) bits = std::stoi(prefixText);
  int width = base && base->v6 ? 128 : 32;
  if (!base || !digits || bits > width) {
    error = fmt::format("invalid CIDR '{}'", text);
    return std::nullopt;
  }
  int host = width - bits;
  U128 mask = host >= 128 ? ~U128(0) : ((U128(1) << host) - 1);
  Range r{{base->v6, base->value & ~mask}, {base->v6, (base->value & ~mask) | mask}};
  if (base->value != r.first.value) {
    error = fmt::format("invalid CIDR '{}': host bits set (network is {}/{})", text, r.first.toString(), bits);
    return std::nullopt;
  }
  // Network and broadcast (first and last) reserved on request, where the block is big enough
  // for that to leave addresses: /30 and larger for IPv4, /126 and larger for IPv6.
  if (!allowFirstLast && host >= 2) {
    r.first.value += 1;
    r.last.value -= 1;
  }
  return r;
}

}  // namespace

bool Pool::contains(const Address& a) const {
  for (const Range& r : ranges) {
    if (r.contains(a)) return true;
  }
  return false;
}

U128 Pool::total() const {
  U128 t = 0;
  for (const Range& r : ranges) t += r.size();
  return t;
}

namespace {

Pool parsePoolFields(const nlohmann::json& object, const std::string& group) {
  Pool pool;
  const auto& meta = object.value("metadata", nlohmann::json::object());
  pool.name = meta.value("name", "");
  pool.key = group + "/" + pool.name;
  pool.creationTimestamp = meta.value("creationTimestamp", "");
  const auto& spec = object.value("spec", nlohmann::json::object());
  pool.disabled = spec.value("disabled", false);
  std::string allow = spec.contains("allowFirstLastIPs") && spec["allowFirstLastIPs"].is_string()
                          ? spec["allowFirstLastIPs"].get<std::string>()
                          : "Yes";
  bool allowFirstLast = allow != "No";
  auto selector = k8s::LabelSelector::fromJson(spec.value("serviceSelector", nlohmann::json()));
  if (selector) {
    pool.serviceSelector = *selector;
  } else {
    pool.errors.push_back("invalid serviceSelector: " + selector.error().message);
    pool.serviceSelector = *k8s::LabelSelector::fromJson({{"matchExpressions",
        {{{"key", "l2announcer.io/invalid-selector"}, {"operator", "Exists"}}}}});  // selects nothing
  }
  // Cilium 1.13 and 1.14 called the blocks `cidrs` (deprecated since 1.15, still accepted by its
  // CRD and its LB-IPAM, which takes both): pools written then keep working.
  std::vector<nlohmann::json> blocks;
  for (const char* field : {"blocks", "cidrs"}) {
    const auto& list = spec.value(field, nlohmann::json::array());
    if (list.is_array()) blocks.insert(blocks.end(), list.begin(), list.end());
    else pool.errors.push_back(fmt::format("spec.{} is not a list", field));
  }
  for (const auto& block : blocks) {
    std::string error;
    if (block.contains("cidr") && block["cidr"].is_string()) {
      if (auto r = parseCidr(block["cidr"], allowFirstLast, error)) pool.ranges.push_back(*r);
    } else if (block.contains("start") && block["start"].is_string()) {
      std::string startText = block["start"];
      std::string stopText = block.contains("stop") && block["stop"].is_string() ? block["stop"].get<std::string>() : startText;
      auto start = Address::parse(startText);
      auto stop = Address::parse(stopText);
      if (!start || !stop) {
        error = fmt::format("invalid range '{}'-'{}'", startText, stopText);
      } else if (start->v6 != stop->v6) {
        error = fmt::format("range {}-{} mixes IPv4 and IPv6", startText, stopText);
      } else if (start->value > stop->value) {
        error = fmt::format("range start {} is after stop {}", startText, stopText);
      } else {
        pool.ranges.push_back({*start, *stop});  // ranges reserve nothing
      }
    } else {
      error = "a block needs a cidr or a start";
    }
    if (!error.empty()) pool.errors.push_back(error);
  }
  return pool;
}

}  // namespace

// A field of the wrong type (possible where no schema is enforced) makes the pool invalid with
// a reason in its status, never an exception.
Pool parsePool(const nlohmann::json& object, const std::string& group) {
  try {
    return parsePoolFields(object, group);
  } catch (const nlohmann::json::exception& e) {
    Pool pool;
    pool.name = k8s::nameOf(object);
    pool.key = group + "/" + pool.name;
    pool.errors.push_back(std::string("malformed object: ") + e.what());
    return pool;
  }
}

}  // namespace l2a::ipam

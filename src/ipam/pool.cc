#include "ipam/pool.h"

#include "kube/client.h"

#include <fmt/format.h>

namespace l2a::ipam {
namespace {

// A selector that selects nothing, for one that could not be read (its error is the pool's).
k8s::LabelSelector selectsNothing() {
  return *k8s::LabelSelector::fromJson(
      {{"matchExpressions", {{{"key", "l2announcer.io/invalid-selector"}, {"operator", "Exists"}}}}});
}

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

bool buggyAddress(const Address& a) { return !a.v6 && ((a.value & 255) == 0 || (a.value & 255) == 255); }

bool Pool::contains(const Address& a) const {
  if (avoidBuggyIps && buggyAddress(a)) return false;
  for (const Range& r : ranges) {
    if (r.contains(a)) return true;
  }
  return false;
}

U128 Pool::total() const {
  // Addresses ≤ n ending in .0, and in .255 (n ≥ 0).
  auto endingIn = [](U128 n, U128 last) { return n < last ? U128(0) : (n - last) / 256 + 1; };
  U128 t = 0;
  for (const Range& r : ranges) {
    t += r.size();
    if (!avoidBuggyIps || r.first.v6) continue;
    for (U128 last : {U128(0), U128(255)}) {
      t -= endingIn(r.last.value, last) - (r.first.value == 0 ? 0 : endingIn(r.first.value - 1, last));
    }
  }
  return t;
}

std::optional<Range> parseAddressRange(const std::string& input, std::string& error) {
  auto trim = [](std::string t) {
    t.erase(0, t.find_first_not_of(" \t"));
    t.erase(t.find_last_not_of(" \t") + 1);
    return t;
  };
  std::string text = trim(input);
  auto dash = text.find('-');
  if (dash == std::string::npos) {
    if (text.find('/') == std::string::npos) {
      error = fmt::format("address '{}' is neither a CIDR nor a range a-b", text);
      return std::nullopt;
    }
    return parseCidr(text, true, error);
  }
  std::string firstText = trim(text.substr(0, dash)), lastText = trim(text.substr(dash + 1));
  auto first = Address::parse(firstText), last = Address::parse(lastText);
  if (!first || !last) {
    error = fmt::format("invalid range '{}'", text);
  } else if (first->v6 != last->v6) {
    error = fmt::format("range {} mixes IPv4 and IPv6", text);
  } else if (first->value > last->value) {
    error = fmt::format("range {}: {} is after {}", text, firstText, lastText);
  } else {
    return Range{*first, *last};
  }
  return std::nullopt;
}

namespace {

Pool parsePoolFields(const nlohmann::json& object, const std::string& group) {
  Pool pool;
  const auto& meta = object.value("metadata", nlohmann::json::object());
  pool.name = meta.value("name", "");
  pool.key = group + "/" + pool.name;
  pool.creationTimestamp = meta.value("creationTimestamp", "");
  pool.labels = k8s::labelsOf(object);
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
    pool.serviceSelector = selectsNothing();
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

std::vector<k8s::LabelSelector> selectorList(const nlohmann::json& list, const std::string& field, Pool& pool) {
  std::vector<k8s::LabelSelector> out;
  if (!list.is_array()) {
    pool.errors.push_back(fmt::format("{} is not a list", field));
    out.push_back(selectsNothing());
    return out;
  }
  for (const auto& item : list) {
    auto selector = k8s::LabelSelector::fromJson(item);
    if (selector) {
      out.push_back(*selector);
    } else {
      pool.errors.push_back(fmt::format("invalid {}: {}", field, selector.error().message));
      out.push_back(selectsNothing());
    }
  }
  return out;
}

// metallb.io/v1beta1 IPAddressPool, field by field as MetalLB documents it.
Pool parseMetallbPoolFields(const nlohmann::json& object) {
  Pool pool;
  const auto& meta = object.value("metadata", nlohmann::json::object());
  pool.name = meta.value("name", "");
  pool.ns = meta.value("namespace", "");
  pool.key = "metallb.io/" + pool.name;
  pool.creationTimestamp = meta.value("creationTimestamp", "");
  pool.labels = k8s::labelsOf(object);
  const auto& spec = object.value("spec", nlohmann::json::object());
  pool.autoAssign = spec.value("autoAssign", true);
  pool.avoidBuggyIps = spec.value("avoidBuggyIPs", false);
  for (const auto& a : spec.value("addresses", nlohmann::json::array())) {
    std::string error;
    if (!a.is_string()) {
      pool.errors.push_back(fmt::format("address {} is not a string", a.dump()));
    } else if (auto r = parseAddressRange(a.get<std::string>(), error)) {
      pool.ranges.push_back(*r);
    } else {
      pool.errors.push_back(error);
    }
  }
  const auto& allocation = spec.value("serviceAllocation", nlohmann::json::object());
  if (allocation.contains("priority") && !allocation["priority"].is_null()) {
    pool.priority = allocation["priority"].get<int>();
  }
  for (const auto& n : allocation.value("namespaces", nlohmann::json::array())) pool.namespaces.push_back(n.get<std::string>());
  if (allocation.contains("namespaceSelectors")) {
    pool.namespaceSelectors = selectorList(allocation["namespaceSelectors"], "serviceAllocation.namespaceSelectors", pool);
  }
  if (allocation.contains("serviceSelectors")) {
    pool.serviceSelectors = selectorList(allocation["serviceSelectors"], "serviceAllocation.serviceSelectors", pool);
  }
  return pool;
}

}  // namespace

// A field of the wrong type (possible where no schema is enforced) makes the pool invalid with
// a reason in its status, never an exception.
Pool parsePool(const nlohmann::json& object, const std::string& group) {
  try {
    return group == "metallb.io" ? parseMetallbPoolFields(object) : parsePoolFields(object, group);
  } catch (const nlohmann::json::exception& e) {
    Pool pool;
    pool.name = k8s::nameOf(object);
    pool.ns = k8s::namespaceOf(object);
    pool.key = group + "/" + pool.name;
    pool.errors.push_back(std::string("malformed object: ") + e.what());
    return pool;
  }
}

}  // namespace l2a::ipam

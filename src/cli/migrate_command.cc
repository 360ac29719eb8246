#include "cli/migrate_command.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "cli/exit_codes.h"
#include "ipam/address.h"
#include "k8s/interface_selector.h"

namespace l2a::cli {
namespace {

using Json = nlohmann::json;

constexpr const char* kOwnVersion = "l2announcer.io/v1alpha1";

// A plain (unquoted) scalar as YAML 1.2's core schema reads it.
Json resolvePlain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex integer("[-+]?[0-9]+");
  static const std::regex real(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, integer)) {
    try {
      return std::stoll(s);
    } catch (const std::exception&) {
      return s;  // out of range: kept as written
    }
  }
  if (std::regex_match(s, real)) {
    try {
      return std::stod(s);
    } catch (const std::exception&) {
      return s;
    }
  }
  return s;
}

Json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return node.Tag() == "!" ? Json(node.Scalar()) : resolvePlain(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(toJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = toJson(entry.second);
      return out;
    }
  }
  return nullptr;
}

void emit(YAML::Emitter& out, const Json& value) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      emit(out, item);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : value) emit(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    // "true", "80" or "" written plain would come back as another type.
    if (!resolvePlain(s).is_string()) {
      out << YAML::DoubleQuoted << s;
    } else {
      out << s;
    }
  } else if (value.is_boolean()) {
    out << (value.get<bool>() ? "true" : "false");
  } else if (value.is_null()) {
    out << YAML::Null;
  } else {
    out << value.dump();
  }
}

std::string nameOf(const Json& o) { return o.value("/metadata/name"_json_pointer, std::string()); }

// The new object's metadata: the source's name and labels (annotations belong to the source).
Json metadataFrom(const Json& source, const std::string& name) {
  Json meta{{"name", name}};
  const Json labels = source.value("/metadata/labels"_json_pointer, Json());
  if (labels.is_object() && !labels.empty()) meta["labels"] = labels;
  return meta;
}

// --- Cilium ---------------------------------------------------------------------------------

Migrated fromCiliumPool(const Json& o) {
  Migrated m;
  const Json spec = o.value("spec", Json::object());
  Json out{{"apiVersion", kOwnVersion}, {"kind", "LoadBalancerIPPool"}, {"metadata", metadataFrom(o, nameOf(o))},
           {"spec", Json::object()}};
  Json blocks = spec.contains("blocks") ? spec["blocks"] : spec.value("cidrs", Json::array());
  out["spec"]["blocks"] = blocks;
  for (const char* field : {"serviceSelector", "disabled", "allowFirstLastIPs"}) {
    if (spec.contains(field)) out["spec"][field] = spec[field];
  }
  m.object = out;
  return m;
}

Migrated fromCiliumPolicy(const Json& o) {
  Migrated m;
  const Json spec = o.value("spec", Json::object());
  Json out{{"apiVersion", kOwnVersion}, {"kind", "L2AnnouncementPolicy"}, {"metadata", metadataFrom(o, nameOf(o))},
           {"spec", Json::object()}};
  for (const char* field : {"serviceSelector", "nodeSelector", "interfaces", "loadBalancerIPs", "externalIPs"}) {
    if (spec.contains(field)) out["spec"][field] = spec[field];
  }
  m.object = out;
  return m;
}

// --- MetalLB --------------------------------------------------------------------------------

// "198.18.0.0/24" or "198.18.1.10-198.18.1.20" (spaces allowed around the dash) to a block.
std::optional<Json> blockOf(std::string text) {
  text.erase(0, text.find_first_not_of(" \t"));
  text.erase(text.find_last_not_of(" \t") + 1);
  auto dash = text.find('-');
  if (dash == std::string::npos) {
    auto slash = text.find('/');
    if (slash == std::string::npos || !ipam::Address::parse(text.substr(0, slash))) return std::nullopt;
    return Json{{"cidr", text}};
  }
  std::string first = text.substr(0, dash), last = text.substr(dash + 1);
  first.erase(first.find_last_not_of(" \t") + 1);
  last.erase(0, last.find_first_not_of(" \t"));
  auto a = ipam::Address::parse(first), b = ipam::Address::parse(last);
  if (!a || !b || a->v6 != b->v6) return std::nullopt;
  return Json{{"start", first}, {"stop", last}};
}

// An IPv4 block as [first, last] host-order numbers.
std::optional<std::pair<uint32_t, uint32_t>> v4Span(const Json& block) {
  auto number = [](const std::string& s) -> std::optional<uint32_t> {
    unsigned a, b, c, d;
    char tail;
    if (std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255 || d > 255) {
      return std::nullopt;
    }
    return (a << 24) | (b << 16) | (c << 8) | d;
  };
  if (block.contains("cidr")) {
    std::string cidr = block["cidr"];
    auto slash = cidr.find('/');
    auto base = number(cidr.substr(0, slash));
    int prefix = std::atoi(cidr.c_str() + slash + 1);
    if (!base || prefix < 0 || prefix > 32) return std::nullopt;
    uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return std::pair{*base & mask, (*base & mask) | ~mask};
  }
  auto a = number(block["start"]), b = number(block["stop"]);
  if (!a || !b || *a > *b) return std::nullopt;
  return std::pair{*a, *b};
}

std::string v4Text(uint32_t v) { return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255); }

// avoidBuggyIPs: the IPv4 block without its addresses ending in .0 or .255, as ranges; nullopt
// when that takes more than `limit` ranges.
std::optional<Json> withoutBuggyIps(const Json& block, size_t limit) {
  auto span = v4Span(block);
  if (!span) return Json::array({block});
  Json out = Json::array();
  uint64_t v = span->first, last = span->second;
  while (v <= last) {
    while (v <= last && ((v & 255) == 0 || (v & 255) == 255)) ++v;
    if (v > last) break;
    uint64_t end = std::min<uint64_t>(last, (v | 255) - 1);
    if (out.size() == limit) return std::nullopt;
    out.push_back(v == end ? Json{{"start", v4Text(static_cast<uint32_t>(v))}}
                           : Json{{"start", v4Text(static_cast<uint32_t>(v))}, {"stop", v4Text(static_cast<uint32_t>(end))}});
    v = end + 1;
  }
  return out;
}

Migrated fromMetallbPool(const Json& o) {
  Migrated m;
  std::string name = nameOf(o);
  const Json spec = o.value("spec", Json::object());
  bool avoidBuggy = spec.value("avoidBuggyIPs", false);
  Json blocks = Json::array();
  for (const Json& a : spec.value("addresses", Json::array())) {
    auto block = a.is_string() ? blockOf(a.get<std::string>()) : std::nullopt;
    if (!block) {
      m.notes.push_back(fmt::format("address {} is neither a CIDR nor a range a-b: left out", a.dump()));
      continue;
    }
    if (!avoidBuggy) {
      blocks.push_back(*block);
      continue;
    }
    auto split = withoutBuggyIps(*block, 256);
    if (!split) {
      m.notes.push_back(fmt::format("avoidBuggyIPs: {} would take more than 256 ranges without its .0 and .255 "
                                    "addresses; kept whole",
                                    a.get<std::string>()));
      blocks.push_back(*block);
    } else {
      for (const Json& b : *split) blocks.push_back(b);
    }
  }
  Json selector = Json::object();
  const Json allocation = spec.value("serviceAllocation", Json::object());
  const Json selectors = allocation.value("serviceSelectors", Json::array());
  if (selectors.is_array() && !selectors.empty()) {
    selector = selectors[0];
    if (selectors.size() > 1) {
      m.notes.push_back(fmt::format("serviceAllocation.serviceSelectors has {} selectors (any of them); a pool takes one: "
                                    "only the first is carried over",
                                    selectors.size()));
    }
  }
  const Json namespaces = allocation.value("namespaces", Json::array());
  if (namespaces.is_array() && !namespaces.empty()) {
    // Services carry their namespace as a label for pool and policy selectors.
    Json expressions = selector.value("matchExpressions", Json::array());
    expressions.push_back({{"key", "io.kubernetes.service.namespace"}, {"operator", "In"}, {"values", namespaces}});
    selector["matchExpressions"] = expressions;
  }
  if (allocation.contains("namespaceSelectors")) {
    m.notes.push_back("serviceAllocation.namespaceSelectors is not carried over (pools select Services by their labels and "
                      "namespace names): list the namespaces in the serviceSelector's io.kubernetes.service.namespace");
  }
  if (allocation.contains("priority")) {
    m.notes.push_back(fmt::format("serviceAllocation.priority {} is not carried over: l2announcer tries the pools that select "
                                  "a Service in name order",
                                  allocation["priority"].dump()));
  }
  if (spec.contains("autoAssign") && spec["autoAssign"] == Json(false)) {
    // Only Services that ask for it: those labelled so (annotations cannot be selected).
    selector["matchLabels"] = selector.value("matchLabels", Json::object());
    selector["matchLabels"]["l2announcer.io/pool"] = name;
    m.notes.push_back(fmt::format("autoAssign: false: the pool below gives addresses only to Services labelled "
                                  "l2announcer.io/pool={} (label those that ask for its addresses)",
                                  name));
  }
  Json out{{"apiVersion", kOwnVersion}, {"kind", "LoadBalancerIPPool"}, {"metadata", metadataFrom(o, name)},
           {"spec", {{"blocks", blocks}}}};
  if (!selector.empty()) out["spec"]["serviceSelector"] = selector;
  m.object = out;
  return m;
}

std::vector<Migrated> fromL2Advertisement(const Json& o) {
  std::string name = nameOf(o);
  const Json spec = o.value("spec", Json::object());
  std::vector<std::string> notes;
  Json base{{"apiVersion", kOwnVersion}, {"kind", "L2AnnouncementPolicy"}, {"spec", {{"loadBalancerIPs", true}}}};
  Json interfaces = Json::array();
  for (const Json& i : spec.value("interfaces", Json::array())) {
    if (i.is_string()) interfaces.push_back(k8s::InterfaceSelector::exact(i.get<std::string>()));  // names there, regexes here
  }
  if (!interfaces.empty()) base["spec"]["interfaces"] = interfaces;
  const Json pools = spec.value("ipAddressPools", Json::array());
  const Json poolSelectors = spec.value("ipAddressPoolSelectors", Json::array());
  if ((pools.is_array() && !pools.empty()) || (poolSelectors.is_array() && !poolSelectors.empty())) {
    notes.push_back(fmt::format("announces only the addresses of pools {}{}; policies select Services, not pools: the "
                                "policy below announces every Service's addresses — give it a serviceSelector for the "
                                "Services of those pools",
                                pools.dump(), poolSelectors.empty() ? "" : " (and pools by selector)"));
  }
  std::vector<Migrated> out;
  const Json nodeSelectors = spec.value("nodeSelectors", Json::array());
  if (!nodeSelectors.is_array() || nodeSelectors.size() <= 1) {
    Migrated m{base, notes};
    m.object["metadata"] = metadataFrom(o, name);
    if (nodeSelectors.is_array() && nodeSelectors.size() == 1) m.object["spec"]["nodeSelector"] = nodeSelectors[0];
    out.push_back(m);
    return out;
  }
  // Any of several node selectors: one policy each (policies that select an address add up).
  for (size_t i = 0; i < nodeSelectors.size(); ++i) {
    Migrated m{base, notes};
    m.object["metadata"] = metadataFrom(o, fmt::format("{}-{}", name, i + 1));
    m.object["spec"]["nodeSelector"] = nodeSelectors[i];
    if (i == 0) m.notes.push_back(fmt::format("{} nodeSelectors (any of them): one policy per selector", nodeSelectors.size()));
    out.push_back(m);
  }
  return out;
}

void migrateOne(const Json& o, Migration& result);

bool hasLbAnnotation(const Json& o) {
  const Json annotations = o.value("/metadata/annotations"_json_pointer, Json::object());
  if (!annotations.is_object()) return false;
  for (const auto& [key, value] : annotations.items()) {
    for (const char* prefix : {"metallb.io/", "metallb.universe.tf/", "kube-vip.io/", "lbipam.cilium.io/"}) {
      if (key.rfind(prefix, 0) == 0) return true;
    }
  }
  return false;
}

}  // namespace

Migration migrate(const std::vector<Json>& objects) {
  Migration result;
  for (const Json& o : objects) {
    if (!o.is_object()) continue;
    // A field of the wrong type leaves that object out, with the reason; never an exception.
    try {
      migrateOne(o, result);
    } catch (const Json::exception& e) {
      result.notes.push_back(fmt::format("{} {}: malformed, left out ({})", o.value("kind", Json("?")).dump(),
                                         o.value("/metadata/name"_json_pointer, Json("?")).dump(), e.what()));
    }
  }
  return result;
}

namespace {

void migrateOne(const Json& o, Migration& result) {
  {
    std::string version = o.value("apiVersion", std::string()), kind = o.value("kind", std::string());
    std::string group = version.substr(0, version.find('/'));
    std::string what = fmt::format("{} {}", kind, nameOf(o));
    auto from = [&](Migrated m) {
      m.notes.insert(m.notes.begin(), fmt::format("from {} {}", version, what));
      result.objects.push_back(std::move(m));
    };
    if (kind == "List" && o.contains("items")) {
      Migration inner = migrate(o["items"].get<std::vector<Json>>());
      for (auto& m : inner.objects) result.objects.push_back(std::move(m));
      for (auto& n : inner.notes) result.notes.push_back(std::move(n));
    } else if (group == "cilium.io" && kind == "CiliumLoadBalancerIPPool") {
      from(fromCiliumPool(o));
    } else if (group == "cilium.io" && kind == "CiliumL2AnnouncementPolicy") {
      from(fromCiliumPolicy(o));
    } else if (group == "metallb.io" && kind == "IPAddressPool") {
      from(fromMetallbPool(o));
    } else if (group == "metallb.io" && kind == "L2Advertisement") {
      for (auto& m : fromL2Advertisement(o)) from(std::move(m));
    } else if (group == "metallb.io") {
      result.notes.push_back(fmt::format("{} {}: left out (BGP and its settings are not what l2announcer does)", version, what));
    } else if (kind == "Service") {
      result.notes.push_back(fmt::format("Service {}: nothing to change{}", nameOf(o),
                                         hasLbAnnotation(o) ? " (its MetalLB, kube-vip or Cilium annotations are read as they are)" : ""));
    } else if (group == "l2announcer.io") {
      result.notes.push_back(fmt::format("{} {}: already an l2announcer.io object", version, what));
    } else {
      result.notes.push_back(fmt::format("{} {}: left as it is (not a Cilium or MetalLB load-balancer kind)", version, what));
    }
  }
}

}  // namespace

Result<std::vector<Json>> parseYamlDocuments(const std::string& text) {
  std::vector<Json> out;
  try {
    for (const YAML::Node& doc : YAML::LoadAll(text)) {
      if (doc.IsNull()) continue;
      Json j = toJson(doc);
      if (!j.is_object()) return fail("usage", fmt::format("document {} is not a YAML map", out.size() + 1));
      out.push_back(std::move(j));
    }
  } catch (const YAML::Exception& e) {
    return fail("usage", fmt::format("not YAML: {}", e.what()));
  }
  return out;
}

std::string toYaml(const Json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  emit(out, value);
  return out.c_str();
}

int runMigrate(const MigrateOptions& options) {
  if (options.files.empty()) {
    fmt::print(stderr, "l2a: error: name the manifests with -f FILE (- for standard input)\n");
    return kExitUsage;
  }
  std::vector<Json> objects;
  for (const std::string& file : options.files) {
    std::stringstream text;
    if (file == "-") {
      text << std::cin.rdbuf();
    } else {
      std::ifstream in(file);
      if (!in) {
        fmt::print(stderr, "l2a: error: cannot read {}\n", file);
        return kExitUsage;
      }
      text << in.rdbuf();
    }
    auto docs = parseYamlDocuments(text.str());
    if (!docs) {
      fmt::print(stderr, "l2a: error: {}: {}\n", file, docs.error().message);
      return kExitFailure;
    }
    objects.insert(objects.end(), docs->begin(), docs->end());
  }
  Migration result = migrate(objects);
  bool first = true;
  for (const Migrated& m : result.objects) {
    if (!first) fmt::print("---\n");
    first = false;
    for (const std::string& note : m.notes) fmt::print("# l2a migrate: {}\n", note);
    fmt::print("{}\n", toYaml(m.object));
  }
  for (const std::string& note : result.notes) fmt::print("# l2a migrate: {}\n", note);
  return kExitOk;
}

}  // namespace l2a::cli

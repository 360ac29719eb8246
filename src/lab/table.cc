#include "lab/table.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "lab/resource_registry.h"

namespace l2a::lab {
namespace {

using Json = nlohmann::json;

// A JSONPath as CRDs use them for printer columns: dotted fields, list indexes ("[0]") and
// equality filters ('[?(@.type=="Ready")]'). Like kube-apiserver's table convertor, a cell shows
// the first match.
Json lookup(const Json& object, const std::string& path) {
  const Json* node = &object;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t end = path.find_first_of(".[", i + 1);
      if (end == std::string::npos) end = path.size();
      std::string field = path.substr(i + 1, end - i - 1);
      if (!node->is_object() || !node->contains(field)) return Json();
      node = &(*node)[field];
      i = end;
    } else if (path[i] == '[') {
      size_t end = path.find(']', i);
      if (end == std::string::npos || !node->is_array()) return Json();
      std::string inside = path.substr(i + 1, end - i - 1);
      const Json* found = nullptr;
      if (inside.rfind("?(@.", 0) == 0 && inside.back() == ')') {
        std::string condition = inside.substr(4, inside.size() - 5);  // key=="value"
        size_t eq = condition.find("==");
        if (eq == std::string::npos) return Json();
        std::string key = condition.substr(0, eq), value = condition.substr(eq + 2);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) value = value.substr(1, value.size() - 2);
        for (const Json& element : *node) {
          if (element.is_object() && element.contains(key) && element[key].is_string() && element[key] == value) {
            found = &element;
            break;
          }
        }
      } else if (!inside.empty() && inside.find_first_not_of("0123456789") == std::string::npos) {
        size_t index = std::stoul(inside);
        if (index < node->size()) found = &(*node)[index];
      }
      if (found == nullptr) return Json();
      node = found;
      i = end + 1;
    } else {
      return Json();
    }
  }
  return *node;
}

std::string cellText(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

Json column(const std::string& name, const std::string& type = "string", const std::string& format = "") {
  return {{"name", name}, {"type", type}, {"format", format}, {"description", ""}, {"priority", 0}};
}

}  // namespace

bool wantsTable(const std::string& accept) { return accept.find("as=Table") != std::string::npos; }

std::string age(const std::string& timestamp) {
  std::tm tm{};
  if (strptime(timestamp.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return "<unknown>";
  long seconds = static_cast<long>(std::time(nullptr) - timegm(&tm));
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return fmt::format("{}s", seconds);
  if (seconds < 7200) return fmt::format("{}m", seconds / 60);
  if (seconds < 172800) return fmt::format("{}h", seconds / 3600);
  return fmt::format("{}d", seconds / 86400);
}

Json toTable(const ResourceInfo& info, const std::vector<Json>& objects, const std::string& resourceVersion) {
  Json columns = Json::array({column("Name", "string", "name")});
  std::vector<std::function<std::string(const Json&)>> cells;
  if (!info.printerColumns.empty()) {
    for (const Json& c : info.printerColumns) {
      std::string type = c.value("type", "string");
      std::string path = c.value("jsonPath", "");
      Json described = column(c.value("name", ""), type == "date" ? "string" : type);
      // kubectl shows a column of priority > 0 only with -o wide, as for kube-apiserver's tables.
      if (c.contains("priority") && c["priority"].is_number_integer()) described["priority"] = c["priority"];
      columns.push_back(described);
      cells.push_back([type, path](const Json& o) {
        Json v = lookup(o, path);
        return type == "date" && v.is_string() ? age(v.get<std::string>()) : cellText(v);
      });
    }
  } else if (info.group.empty() && info.plural == "services") {
    columns.push_back(column("Type"));
    columns.push_back(column("Cluster-IP"));
    columns.push_back(column("External-IP"));
    columns.push_back(column("Port(s)"));
    cells.push_back([](const Json& o) { return cellText(lookup(o, ".spec.type")); });
    cells.push_back([](const Json& o) {
      std::string ip = cellText(lookup(o, ".spec.clusterIP"));
      return ip.empty() ? "<none>" : ip;
    });
    cells.push_back([](const Json& o) {
      std::vector<std::string> ips;
      for (const Json& i : lookup(o, ".status.loadBalancer.ingress").is_array() ? lookup(o, ".status.loadBalancer.ingress") : Json::array()) {
        if (i.contains("ip")) ips.push_back(i["ip"]);
      }
      if (ips.empty()) return std::string(lookup(o, ".spec.type") == "LoadBalancer" ? "<pending>" : "<none>");
      return fmt::format("{}", fmt::join(ips, ","));
    });
    cells.push_back([](const Json& o) {
      std::vector<std::string> ports;
      Json list = lookup(o, ".spec.ports");
      for (const Json& p : list.is_array() ? list : Json::array()) {
        ports.push_back(fmt::format("{}/{}", p.value("port", 0), p.value("protocol", "TCP")));
      }
      return ports.empty() ? std::string("<none>") : fmt::format("{}", fmt::join(ports, ","));
    });
  } else if (info.group.empty() && info.plural == "nodes") {
    columns.push_back(column("Roles"));
    cells.push_back([](const Json& o) {
      std::vector<std::string> roles;
      Json labels = lookup(o, ".metadata.labels");
      for (const auto& [k, v] : labels.is_object() ? labels.items() : Json::object().items()) {
        const std::string prefix = "node-role.kubernetes.io/";
        if (k.rfind(prefix, 0) == 0) roles.push_back(k.substr(prefix.size()));
      }
      return roles.empty() ? std::string("<none>") : fmt::format("{}", fmt::join(roles, ","));
    });
  }
  bool hasAge = std::any_of(info.printerColumns.begin(), info.printerColumns.end(),
                            [](const Json& c) { return c.value("type", "") == "date"; });
  if (!hasAge) {
    columns.push_back(column("Age"));
    cells.push_back([](const Json& o) { return age(cellText(lookup(o, ".metadata.creationTimestamp"))); });
  }
  Json rows = Json::array();
  for (const Json& o : objects) {
    Json row = Json::array({cellText(lookup(o, ".metadata.name"))});
    for (const auto& cell : cells) row.push_back(cell(o));
    rows.push_back({{"cells", row},
                    {"object", {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"},
                                {"metadata", o.value("metadata", Json::object())}}}});
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", {{"resourceVersion", resourceVersion}}},
          {"columnDefinitions", columns}, {"rows", rows}};
}

}  // namespace l2a::lab

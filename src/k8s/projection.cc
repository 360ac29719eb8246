#include "k8s/projection.h"

namespace l2a::k8s {
namespace {

using Json = nlohmann::json;

// Copies into `out` what `path[at...]` selects of `in`.
void copyPath(const Json& in, const Path& path, size_t at, Json& out) {
  if (at == path.size()) {
    out = in;
    return;
  }
  const std::string& key = path[at];
  if (key == "*") {
    if (!in.is_array()) {
      out = in;  // malformed: the consumer judges it
      return;
    }
    if (!out.is_array()) out = Json::array();
    for (size_t i = 0; i < in.size(); ++i) {
      if (out.size() <= i) out.push_back(Json());
      copyPath(in[i], path, at + 1, out[i]);
    }
    return;
  }
  if (!in.is_object()) {
    out = in;
    return;
  }
  auto it = in.find(key);
  if (it == in.end()) return;
  // Only what the path finds: a parent whose child is absent ("status": {} without
  // "conditions") is not made up as null (a consumer's value() on null throws).
  Json sub = out.is_object() && out.contains(key) ? std::move(out[key]) : Json();
  copyPath(*it, path, at + 1, sub);
  if (sub.is_null() && at + 1 < path.size() && !it->is_null()) {
    if (out.is_object()) out.erase(key);
    return;
  }
  if (!out.is_object()) out = Json::object();
  out[key] = std::move(sub);
}

}  // namespace

Json project(const Json& object, const std::vector<Path>& keep) {
  if (!object.is_object()) return object;
  Json out = Json::object();
  for (const Path& path : keep) copyPath(object, path, 0, out);
  return out;
}

void keepCondition(Json& object, std::string_view type) {
  if (!object.is_object()) return;
  auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return;
  Json kept = Json::array();
  for (Json& c : *conditions) {
    auto t = c.is_object() ? c.find("type") : c.end();
    if (!c.is_object() || (t != c.end() && t->is_string() && t->get_ref<const std::string&>() == type)) kept.push_back(std::move(c));
  }
  *conditions = std::move(kept);
}

std::vector<Path> withIdentity(std::vector<Path> fields) {
  for (const char* key : {"name", "namespace", "uid", "resourceVersion"}) fields.push_back({"metadata", key});
  fields.push_back({"apiVersion"});
  fields.push_back({"kind"});
  return fields;
}

const std::vector<Path>& agentServiceFields() {
  static const std::vector<Path> fields = withIdentity({
      {"metadata", "labels"},
      {"spec", "type"},
      {"spec", "loadBalancerClass"},
      {"spec", "externalIPs"},
      {"spec", "externalTrafficPolicy"},
      {"status", "loadBalancer", "ingress", "*", "ip"},
      {"status", "conditions"},  // the Announced condition, compared before it is written
  });
  return fields;
}

const std::vector<Path>& agentEndpointSliceFields() {
  static const std::vector<Path> fields{
      {"metadata", "name"},
      {"metadata", "namespace"},
      {"metadata", "resourceVersion"},
      {"metadata", "labels", "kubernetes.io/service-name"},
      {"endpoints", "*", "nodeName"},
      {"endpoints", "*", "conditions", "ready"},
  };
  return fields;
}

const std::vector<Path>& agentNodeFields() {
  static const std::vector<Path> fields{
      {"metadata", "name"},
      {"metadata", "uid"},  // the owner of this node's Lease
      {"metadata", "resourceVersion"},
      {"metadata", "labels"},
      {"metadata", "annotations", "l2announcer.io/weight"},
      {"spec", "unschedulable"},
  };
  return fields;
}

}  // namespace l2a::k8s

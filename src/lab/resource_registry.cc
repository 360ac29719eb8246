#include "lab/resource_registry.h"

#include <fmt/format.h>

#include "lab/schema.h"

namespace l2a::lab {

using Json = nlohmann::json;

ResourceRegistry::ResourceRegistry() {
  auto core = [this](const char* plural, const char* singular, const char* kind, bool namespaced, bool hasStatus,
                     std::vector<std::string> shortNames) {
    add({"", "v1", plural, singular, kind, namespaced, hasStatus, std::move(shortNames)});
  };
  core("namespaces", "namespace", "Namespace", false, true, {"ns"});
  core("nodes", "node", "Node", false, true, {"no"});
  core("services", "service", "Service", true, true, {"svc"});
  core("endpoints", "endpoints", "Endpoints", true, false, {"ep"});
  core("events", "event", "Event", true, false, {"ev"});
  core("configmaps", "configmap", "ConfigMap", true, false, {"cm"});
  core("serviceaccounts", "serviceaccount", "ServiceAccount", true, false, {"sa"});
  add({"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, false, {}, Json::array(),
       nullptr, false, true});
  add({"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, {}});
  add({"events.k8s.io", "v1", "events", "event", "Event", true, false, {"ev"}});
  // Kinds the deploy manifests use, stored as they are (nothing runs them in the lab).
  add({"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, true, {"ds"}, Json::array(), nullptr, false, true});
  add({"apps", "v1", "deployments", "deployment", "Deployment", true, true, {"deploy"}, Json::array(), nullptr, false,
       true});
  for (const auto& [plural, kind, namespaced] : std::vector<std::tuple<std::string, std::string, bool>>{
           {"clusterroles", "ClusterRole", false}, {"clusterrolebindings", "ClusterRoleBinding", false},
           {"roles", "Role", true}, {"rolebindings", "RoleBinding", true}}) {
    add({"rbac.authorization.k8s.io", "v1", plural, plural.substr(0, plural.size() - 1), kind, namespaced, false, {}});
  }
  add({"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
       "CustomResourceDefinition", false, true, {"crd", "crds"}, Json::array(), nullptr, false, true});
}

void ResourceRegistry::add(const ResourceInfo& info) {
  std::lock_guard lock(mutex_);
  resources_[info.group + "/" + info.version + "/" + info.plural] = info;
}

std::vector<std::string> ResourceRegistry::crdErrors(const Json& crd) {
  std::vector<std::string> errors;
  Json versions = crd.contains("spec") && crd["spec"].is_object() ? crd["spec"].value("versions", Json::array()) : Json();
  if (!versions.is_array() || versions.empty()) return {"spec.versions: Invalid value: must have exactly one version marked as storage version"};
  for (const Json& version : versions) {
    if (!version.is_object()) continue;
    Json schema = version.contains("schema") && version["schema"].is_object()
                      ? version["schema"].value("openAPIV3Schema", Json())
                      : Json();
    if (schema.is_null()) {
      errors.push_back(fmt::format("spec.versions[{}].schema.openAPIV3Schema: Required value: schemas are required",
                                   version.value("name", "")));
      continue;
    }
    for (auto& e : structuralErrors(schema)) errors.push_back(std::move(e));
  }
  return errors;
}

void ResourceRegistry::addCrd(const Json& crd) {
  const Json& spec = crd["spec"];
  std::vector<ResourceInfo> served;
  for (const Json& version : spec.value("versions", Json::array())) {
    if (!version.value("served", true)) continue;
    ResourceInfo info;
    info.group = spec.value("group", "");
    info.version = version.value("name", "");
    info.plural = spec["names"].value("plural", "");
    info.singular = spec["names"].value("singular", "");
    info.kind = spec["names"].value("kind", "");
    info.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    info.hasStatus = version.contains("subresources") && version["subresources"].contains("status");
    for (const Json& s : spec["names"].value("shortNames", Json::array())) info.shortNames.push_back(s);
    info.printerColumns = version.value("additionalPrinterColumns", Json::array());
    info.custom = true;
    info.generation = true;
    if (version.contains("schema") && version["schema"].is_object()) {
      info.schema = version["schema"].value("openAPIV3Schema", Json());
    }
    served.push_back(std::move(info));
  }
  // One swap: a request never finds the kind missing while its CRD is updated.
  std::string group = spec.value("group", "");
  std::string plural = spec["names"].value("plural", "");
  std::lock_guard lock(mutex_);
  std::erase_if(resources_, [&](const auto& entry) { return entry.second.group == group && entry.second.plural == plural; });
  for (auto& info : served) resources_[info.group + "/" + info.version + "/" + info.plural] = std::move(info);
}

void ResourceRegistry::removeCrd(const Json& crd) {
  const Json& spec = crd["spec"];
  std::string group = spec.value("group", "");
  std::string plural = spec["names"].value("plural", "");
  std::lock_guard lock(mutex_);
  std::erase_if(resources_, [&](const auto& entry) { return entry.second.group == group && entry.second.plural == plural; });
}

std::optional<ResourceInfo> ResourceRegistry::find(const std::string& group, const std::string& version,
                                                   const std::string& plural) const {
  std::lock_guard lock(mutex_);
  auto it = resources_.find(group + "/" + version + "/" + plural);
  if (it == resources_.end()) return std::nullopt;
  return it->second;
}

std::vector<ResourceInfo> ResourceRegistry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<ResourceInfo> out;
  for (const auto& [k, info] : resources_) out.push_back(info);
  return out;
}

}  // namespace l2a::lab

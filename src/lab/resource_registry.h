// ResourceRegistry: the kinds the lab API server serves — the built-in ones and every version
// of every CRD applied (group, version, plural, scope, short names, status subresource, printer
// columns, schema) — for routing, discovery and tables. Thread-safe; lookups return copies.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace l2a::lab {

struct ResourceInfo {
  std::string group;
  std::string version;
  std::string plural;
  std::string singular;
  std::string kind;
  bool namespaced = true;
  bool hasStatus = false;
  std::vector<std::string> shortNames;
  nlohmann::json printerColumns = nlohmann::json::array();  // additionalPrinterColumns of a CRD
  nlohmann::json schema;  // openAPIV3Schema of a CRD version (null: built-in, not pruned)
  bool custom = false;     // defined by a CRD: list items keep apiVersion and kind
  bool generation = false; // metadata.generation kept (bumped on spec changes), as the real strategy does
  std::string storeId() const { return group + "/" + plural; }
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
};

class ResourceRegistry {
 public:
  ResourceRegistry();  // the built-in kinds

  void add(const ResourceInfo& info);
  // A CRD's problems as kube-apiserver words them (its schemas must be structural); empty when
  // it can be served.
  static std::vector<std::string> crdErrors(const nlohmann::json& crd);
  // Serves every served version of the CRD (replacing what it served before).
  void addCrd(const nlohmann::json& crd);
  void removeCrd(const nlohmann::json& crd);

  std::optional<ResourceInfo> find(const std::string& group, const std::string& version,
                                   const std::string& plural) const;
  std::vector<ResourceInfo> all() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ResourceInfo> resources_;  // group/version/plural
};

}  // namespace l2a::lab

// Server-side printing for kubectl (meta.k8s.io/v1 Table): the columns kubectl shows for
// `kubectl get`, from a CRD's additionalPrinterColumns, built-in columns for Services and
// Nodes, or NAME/AGE. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace l2a::lab {

struct ResourceInfo;

// Whether the Accept header asks for a Table.
bool wantsTable(const std::string& accept);
nlohmann::json toTable(const ResourceInfo& info, const std::vector<nlohmann::json>& objects,
                       const std::string& resourceVersion);
// "5s", "3m", "2h", "4d" since an RFC 3339 timestamp, as kubectl prints ages.
std::string age(const std::string& timestamp);

}  // namespace l2a::lab

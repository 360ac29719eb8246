// Names of Kubernetes objects as the API returns them — metadata.name, metadata.namespace, the
// "namespace/name" key — read without ever throwing, whatever the object holds. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace l2a::k8s {

// metadata.name / metadata.namespace of an object ("" when absent or not a string).
std::string nameOf(const nlohmann::json& object);
std::string namespaceOf(const nlohmann::json& object);
// "ns/name" or "name": the key objects are cached by.
std::string keyOf(const nlohmann::json& object);

}  // namespace l2a::k8s

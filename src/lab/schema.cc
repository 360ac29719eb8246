#include "lab/schema.h"

#include <fmt/format.h>

namespace l2a::lab {
namespace {

using Json = nlohmann::json;

bool preserves(const Json& schema) {
  return schema.is_object() && schema.value("x-kubernetes-preserve-unknown-fields", false);
}

void checkNode(const Json& schema, const std::string& path, bool root, std::vector<std::string>& errors) {
  if (!schema.is_object()) return;
  bool intOrString = schema.value("x-kubernetes-int-or-string", false);
  if (!schema.contains("type") && !intOrString && !preserves(schema)) {
    errors.push_back(fmt::format("{}.type: Required value: must not be empty for specified object fields", path));
  }
  if (schema.contains("properties") && schema.contains("additionalProperties") &&
      !(schema["additionalProperties"].is_boolean() && schema["additionalProperties"].get<bool>())) {
    errors.push_back(fmt::format("{}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
                                 path));
  }
  if (root && schema.value("type", "") != "object") {
    errors.push_back(fmt::format("{}.type: Unsupported value: must be object at the root", path));
  }
  if (schema.contains("properties") && schema["properties"].is_object()) {
    for (const auto& [name, child] : schema["properties"].items()) {
      checkNode(child, fmt::format("{}.properties[{}]", path, name), false, errors);
    }
  }
  if (schema.contains("items")) checkNode(schema["items"], path + ".items", false, errors);
  if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
    checkNode(schema["additionalProperties"], path + ".additionalProperties", false, errors);
  }
}

void pruneNode(Json& value, const Json& schema, const std::string& path, bool root,
               std::vector<std::string>& removed) {
  if (!schema.is_object()) return;
  if (value.is_object()) {
    const Json* properties = schema.contains("properties") && schema["properties"].is_object() ? &schema["properties"] : nullptr;
    const Json* additional = schema.contains("additionalProperties") && schema["additionalProperties"].is_object()
                                 ? &schema["additionalProperties"]
                                 : nullptr;
    std::vector<std::string> drop;
    for (auto& [key, child] : value.items()) {
      std::string childPath = path.empty() ? key : path + "." + key;
      if (root && (key == "apiVersion" || key == "kind" || key == "metadata")) continue;
      if (properties != nullptr && properties->contains(key)) {
        pruneNode(child, (*properties)[key], childPath, false, removed);
      } else if (additional != nullptr) {
        pruneNode(child, *additional, childPath, false, removed);
      } else if (!preserves(schema)) {
        drop.push_back(key);
        removed.push_back(childPath);
      }
    }
    for (const auto& key : drop) value.erase(key);
  } else if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      pruneNode(value[i], schema["items"], fmt::format("{}[{}]", path, i), false, removed);
    }
  }
}

}  // namespace

std::vector<std::string> structuralErrors(const Json& schema) {
  std::vector<std::string> errors;
  checkNode(schema, "spec.validation.openAPIV3Schema", true, errors);
  return errors;
}

std::vector<std::string> prune(Json& object, const Json& schema) {
  std::vector<std::string> removed;
  pruneNode(object, schema, "", true, removed);
  return removed;
}

}  // namespace l2a::lab

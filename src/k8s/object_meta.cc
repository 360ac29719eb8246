#include "k8s/object_meta.h"

namespace l2a::k8s {

using Json = nlohmann::json;

std::string nameOf(const Json& object) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto n = m->find("name");
  return n != m->end() && n->is_string() ? n->get<std::string>() : "";
}

std::string namespaceOf(const Json& object) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto n = m->find("namespace");
  return n != m->end() && n->is_string() ? n->get<std::string>() : "";
}

std::string keyOf(const Json& object) {
  std::string ns = namespaceOf(object);
  return ns.empty() ? nameOf(object) : ns + "/" + nameOf(object);
}

}  // namespace l2a::k8s

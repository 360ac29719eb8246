// The lab API server's answers and request bits, shared by its parts: metav1.Status bodies,
// JSON replies, query parameters, path segments. Header-only; used by src/lab/api_*.cc only.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lab/object_store.h"
#include "lab/selector.h"

namespace l2a::lab::api {

inline nlohmann::json statusBody(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason}, {"code", code}};
}

inline void reply(httplib::Response& res, int code, const nlohmann::json& body) {
  res.status = code;
  res.set_content(body.dump(), "application/json");
}

inline void replyFailure(httplib::Response& res, const ApiFailure& f) {
  reply(res, f.code, statusBody(f.code, f.reason, f.message));
}

inline std::string param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : "";
}

// A request's labelSelector and fieldSelector; a malformed one is a 400 BadRequest.
inline Result<std::pair<LabelSelector, FieldSelector>, ApiFailure> parseSelectors(const httplib::Request& req) {
  auto labels = LabelSelector::parse(param(req, "labelSelector"));
  auto fields = FieldSelector::parse(param(req, "fieldSelector"));
  if (!labels) return fail(ApiFailure{400, "BadRequest", labels.error().message});
  if (!fields) return fail(ApiFailure{400, "BadRequest", fields.error().message});
  return std::pair{*labels, *fields};
}

inline std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

}  // namespace l2a::lab::api

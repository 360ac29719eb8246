#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>

#include "lab/api_reply.h"
#include "lab/api_server.h"

namespace l2a::lab {

using namespace api;

// Discovery: /version, health, /api, /apis, /apis/GROUP/VERSION, and as much OpenAPI v3 as
// kubectl needs to see that the server validates fields itself.
bool ApiServer::discovery(const httplib::Request& req, httplib::Response& res) {
  const std::string& path = req.path;
  if (path == "/version") {
    reply(res, 200, {{"major", "1"}, {"minor", "30"}, {"gitVersion", "v1.30.0-l2a-lab"},
                     {"platform", "linux/amd64"}});
    return true;
  }
  if (path == "/healthz" || path == "/readyz" || path == "/livez") {
    res.set_content("ok", "text/plain");
    return true;
  }
  if (path == "/api") {
    reply(res, 200, {{"kind", "APIVersions"}, {"versions", {"v1"}},
                     {"serverAddressByClientCIDRs",
                      {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", fmt::format("{}:{}", options_.host, boundPort_)}}}}});
    return true;
  }
  const std::vector<ResourceInfo> served = registry_.all();
  // OpenAPI v3, only as much as kubectl needs to see that the server validates fields itself
  // (fieldValidation on PATCH): then it skips client-side schema validation.
  if (path == "/openapi/v3") {
    Json paths = Json::object();
    for (const ResourceInfo& info : served) {
      std::string gv = info.group.empty() ? "api/" + info.version : "apis/" + info.group + "/" + info.version;
      paths[gv] = {{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=lab"}};
    }
    reply(res, 200, {{"paths", paths}});
    return true;
  }
  if (path.rfind("/openapi/v3/", 0) == 0) {
    std::string gv = path.substr(12);
    Json paths = Json::object();
    for (const ResourceInfo& info : served) {
      std::string mine = info.group.empty() ? "api/" + info.version : "apis/" + info.group + "/" + info.version;
      if (mine != gv) continue;
      Json op{{"x-kubernetes-group-version-kind",
               {{"group", info.group}, {"version", info.version}, {"kind", info.kind}}},
              {"parameters", {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                              {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
              {"responses", {{"200", {{"description", "OK"}}}}}};
      std::string base = "/" + gv + (info.namespaced ? "/namespaces/{namespace}/" : "/") + info.plural + "/{name}";
      paths[base] = {{"patch", op}, {"get", op}, {"put", op}};
    }
    if (paths.empty()) return false;
    reply(res, 200, {{"openapi", "3.0.0"}, {"info", {{"title", "l2a-lab"}, {"version", "v1.30.0"}}},
                     {"paths", paths}, {"components", {{"schemas", Json::object()}}}});
    return true;
  }
  if (path == "/apis") {
    std::map<std::string, std::vector<std::string>> groups;
    for (const ResourceInfo& info : served) {
      if (info.group.empty()) continue;
      auto& versions = groups[info.group];
      if (std::find(versions.begin(), versions.end(), info.version) == versions.end()) versions.push_back(info.version);
    }
    Json list = Json::array();
    for (const auto& [group, versions] : groups) {
      Json vs = Json::array();
      for (const auto& v : versions) vs.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
      list.push_back({{"name", group}, {"versions", vs}, {"preferredVersion", vs[0]}});
    }
    reply(res, 200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", list}});
    return true;
  }
  auto parts = splitPath(path);
  std::string group, version;
  if (parts.size() == 2 && parts[0] == "api") {
    version = parts[1];
  } else if (parts.size() == 3 && parts[0] == "apis") {
    group = parts[1];
    version = parts[2];
  } else {
    return false;
  }
  Json resources = Json::array();
  for (const ResourceInfo& info : served) {
    if (info.group != group || info.version != version) continue;
    Json r{{"name", info.plural}, {"singularName", info.singular}, {"namespaced", info.namespaced},
           {"kind", info.kind},
           {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}}};
    if (!info.shortNames.empty()) r["shortNames"] = info.shortNames;
    resources.push_back(r);
    if (info.hasStatus) {
      resources.push_back({{"name", info.plural + "/status"}, {"singularName", ""},
                           {"namespaced", info.namespaced}, {"kind", info.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  if (resources.empty()) return false;
  reply(res, 200, {{"kind", "APIResourceList"}, {"apiVersion", "v1"},
                   {"groupVersion", group.empty() ? version : group + "/" + version},
                   {"resources", resources}});
  return true;
}

}  // namespace l2a::lab

#include "kube/client_config.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

extern char** environ;

namespace l2a::kube {
namespace {

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("config", fmt::format("cannot read {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Base64 through OpenSSL (already linked for TLS) rather than by hand.
Result<std::string> decodeBase64(const std::string& text, const std::string& field) {
  std::string clean;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return fail("config", fmt::format("{}: invalid base64", field));
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return fail("config", fmt::format("{}: invalid base64", field));
  size_t padding = 0;
  if (!clean.empty() && clean.back() == '=') ++padding;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// A PEM from either FIELD-data (base64) or FIELD (a path).
Status<> pemField(const YAML::Node& node, const std::string& field, const std::string& base,
                  std::string& out) {
  if (node[field + "-data"]) {
    auto decoded = decodeBase64(node[field + "-data"].as<std::string>(), field + "-data");
    if (!decoded) return fail(decoded.error());
    out = *decoded;
  } else if (node[field]) {
    std::filesystem::path p = node[field].as<std::string>();
    if (p.is_relative()) p = std::filesystem::path(base) / p;
    auto content = readFile(p.string());
    if (!content) return fail(content.error());
    out = *content;
  }
  return Ok{};
}

std::optional<YAML::Node> findNamed(const YAML::Node& list, const std::string& name,
                                    const char* inner) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name && entry[inner].IsMap()) {
      return entry[inner];
    }
  }
  return std::nullopt;
}

// users[].user.exec, checked as client-go checks it.
Result<ExecConfig> execConfig(const YAML::Node& exec, const std::string& baseDirectory) {
  if (!exec.IsMap()) return fail("config", "exec is not a map");
  ExecConfig c;
  if (!exec["command"] || exec["command"].as<std::string>().empty()) return fail("config", "exec has no command");
  c.command = exec["command"].as<std::string>();
  // A relative path with a directory in it is relative to the kubeconfig, as kubectl reads it.
  if (c.command.find('/') != std::string::npos && std::filesystem::path(c.command).is_relative()) {
    c.command = (std::filesystem::path(baseDirectory) / c.command).string();
  }
  if (exec["args"]) {
    if (!exec["args"].IsSequence()) return fail("config", "exec args is not a list");
    for (const auto& a : exec["args"]) c.args.push_back(a.as<std::string>());
  }
  if (exec["env"]) {
    if (!exec["env"].IsSequence()) return fail("config", "exec env is not a list");
    for (const auto& e : exec["env"]) {
      if (!e.IsMap() || !e["name"]) return fail("config", "exec env entries need a name and a value");
      c.env.emplace_back(e["name"].as<std::string>(), e["value"] ? e["value"].as<std::string>() : "");
    }
  }
  c.apiVersion = exec["apiVersion"] ? exec["apiVersion"].as<std::string>() : "";
  if (c.apiVersion != "client.authentication.k8s.io/v1" && c.apiVersion != "client.authentication.k8s.io/v1beta1") {
    return fail("config", fmt::format("exec apiVersion '{}' is not client.authentication.k8s.io/v1 or v1beta1", c.apiVersion));
  }
  c.interactiveMode = exec["interactiveMode"] ? exec["interactiveMode"].as<std::string>() : "";
  if (c.interactiveMode.empty() && c.apiVersion == "client.authentication.k8s.io/v1") {
    return fail("config", "exec interactiveMode must be set for client.authentication.k8s.io/v1 (Never, IfAvailable or Always)");
  }
  if (c.interactiveMode == "Always") {
    return fail("config", "exec interactiveMode is Always: the plugin needs a terminal, and l2a runs plugins without one");
  }
  if (!c.interactiveMode.empty() && c.interactiveMode != "Never" && c.interactiveMode != "IfAvailable") {
    return fail("config", fmt::format("exec interactiveMode '{}' is not Never, IfAvailable or Always", c.interactiveMode));
  }
  c.provideClusterInfo = exec["provideClusterInfo"] && exec["provideClusterInfo"].as<bool>();
  if (exec["installHint"]) c.installHint = exec["installHint"].as<std::string>();
  return c;
}

}  // namespace

Result<ClientConfig> parseKubeconfig(const std::string& yaml, const std::string& baseDirectory,
                                     const std::string& context) {
  try {
    YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap()) return fail("config", "kubeconfig is not a YAML map");
    std::string contextName = context;
    if (contextName.empty() && root["current-context"]) {
      contextName = root["current-context"].as<std::string>();
    }
    if (contextName.empty()) return fail("config", "kubeconfig has no current-context");
    auto found = findNamed(root["contexts"], contextName, "context");
    if (!found) return fail("config", fmt::format("context '{}' not found in kubeconfig", contextName));
    YAML::Node ctx = *found;
    ClientConfig config;
    if (ctx["namespace"]) config.namespace_ = ctx["namespace"].as<std::string>();
    std::string clusterName = ctx["cluster"] ? ctx["cluster"].as<std::string>() : "";
    auto foundCluster = findNamed(root["clusters"], clusterName, "cluster");
    if (!foundCluster || !(*foundCluster)["server"]) {
      return fail("config", fmt::format("cluster '{}' (with a server) not found", clusterName));
    }
    YAML::Node cluster = *foundCluster;
    config.server = cluster["server"].as<std::string>();
    while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
    if (cluster["insecure-skip-tls-verify"]) {
      config.insecureSkipTlsVerify = cluster["insecure-skip-tls-verify"].as<bool>();
    }
    if (auto s = pemField(cluster, "certificate-authority", baseDirectory,
                          config.certificateAuthority); !s) {
      return fail(s.error());
    }
    if (ctx["user"]) {
      auto foundUser = findNamed(root["users"], ctx["user"].as<std::string>(), "user");
      if (foundUser) {
        YAML::Node user = *foundUser;
        if (auto s = pemField(user, "client-certificate", baseDirectory, config.clientCertificate); !s) {
          return fail(s.error());
        }
        if (auto s = pemField(user, "client-key", baseDirectory, config.clientKey); !s) {
          return fail(s.error());
        }
        if (user["auth-provider"]) {
          std::string name = user["auth-provider"]["name"] ? user["auth-provider"]["name"].as<std::string>() : "?";
          return fail("config", fmt::format("user '{}' uses auth-provider '{}', which kubectl removed in 1.26: use its exec "
                                            "credential plugin instead (gke-gcloud-auth-plugin, kubelogin for OIDC)",
                                            ctx["user"].as<std::string>(), name));
        }
        if (user["exec"]) {
          auto exec = execConfig(user["exec"], baseDirectory);
          if (!exec) return fail("config", fmt::format("user '{}': {}", ctx["user"].as<std::string>(), exec.error().message));
          config.exec = std::move(exec).value();
        }
        if (user["token"]) config.bearerToken = user["token"].as<std::string>();
        if (user["tokenFile"]) {
          std::filesystem::path p = user["tokenFile"].as<std::string>();
          if (p.is_relative()) p = std::filesystem::path(baseDirectory) / p;
          config.tokenFile = p.string();
        }
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    return fail("config", fmt::format("kubeconfig: {}", e.what()));
  }
}

Result<ClientConfig> loadKubeconfig(const std::string& path, const std::string& context) {
  auto content = readFile(path);
  if (!content) return fail(content.error());
  auto base = std::filesystem::absolute(path).parent_path().string();
  auto config = parseKubeconfig(*content, base, context);
  if (!config) return fail("config", fmt::format("{}: {}", path, config.error().message));
  return config;
}

Result<ClientConfig> loadInCluster(const std::map<std::string, std::string>& environment,
                                   const std::string& accountDirectory) {
  auto host = environment.find("KUBERNETES_SERVICE_HOST");
  auto port = environment.find("KUBERNETES_SERVICE_PORT");
  if (host == environment.end() || port == environment.end()) {
    return fail("config",
                "no kubeconfig (--kubeconfig, $KUBECONFIG) and not in a cluster "
                "(KUBERNETES_SERVICE_HOST/PORT unset)");
  }
  ClientConfig config;
  bool v6 = host->second.find(':') != std::string::npos;
  config.server = fmt::format("https://{}{}{}:{}", v6 ? "[" : "", host->second, v6 ? "]" : "",
                              port->second);
  config.tokenFile = accountDirectory + "/token";
  auto ca = readFile(accountDirectory + "/ca.crt");
  if (!ca) return fail(ca.error());
  config.certificateAuthority = *ca;
  auto ns = readFile(accountDirectory + "/namespace");
  if (ns) config.namespace_ = *ns;
  return config;
}

Result<ClientConfig> resolveClientConfig(const std::string& kubeconfigFlag,
                                         const std::string& context,
                                         const std::map<std::string, std::string>& environment) {
  if (!kubeconfigFlag.empty()) return loadKubeconfig(kubeconfigFlag, context);
  auto env = environment.find("KUBECONFIG");
  if (env != environment.end() && !env->second.empty()) {
    std::string first = env->second.substr(0, env->second.find(':'));
    return loadKubeconfig(first, context);
  }
  return loadInCluster(environment);
}

std::map<std::string, std::string> processEnvironment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return out;
}

}  // namespace l2a::kube

// Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1), as kubectl runs them:
// the kubeconfig's users[].user.exec names a command (EKS's `aws eks get-token`, GKE's
// gke-gcloud-auth-plugin, kubelogin for OIDC) that prints an ExecCredential with a bearer token
// or a client certificate and, optionally, when it expires. The credential is cached until then
// (or until the API server answers 401) and the plugin runs again. Plugins run without a
// terminal: one that needs one (interactiveMode: Always) is refused with a clear error.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace l2a::kube {

struct ExecConfig {
  std::string command;  // a name looked up in PATH, or a path (relative: to the kubeconfig's directory)
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the plugin's environment
  std::string apiVersion;  // client.authentication.k8s.io/v1 or v1beta1
  std::string interactiveMode;  // Never, IfAvailable, Always ("" before v1)
  bool provideClusterInfo = false;
  std::string installHint;  // shown when the command is not found
};

struct ExecCredential {
  std::string token;
  std::string clientCertificate;  // PEM
  std::string clientKey;          // PEM
  std::optional<std::chrono::system_clock::time_point> expires;
};

// The plugin's standard output, checked as client-go checks it: an ExecCredential of the
// configured apiVersion with a token or a certificate and key. Never throws.
Result<ExecCredential> parseExecCredential(std::string_view output, const std::string& apiVersion);

// RFC 3339 with an optional fraction and a Z or ±hh:mm offset (metav1.Time as plugins print it).
std::optional<std::chrono::system_clock::time_point> parseRfc3339(const std::string& text);

// Runs the plugin: its environment is ours plus the config's env and KUBERNETES_EXEC_INFO; no
// terminal; bounded by `timeout`. Fails with the plugin's stderr (its last lines, on one line)
// when it exits non-zero.
Result<std::string> runExecPlugin(const ExecConfig& config, const std::string& execInfo,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A cached credential, shared by every request of a transport. Thread-safe: one plugin run at a
// time; callers wait for it.
class ExecCredentialSource {
 public:
  using Runner = std::function<Result<std::string>(const ExecConfig&, const std::string& execInfo)>;
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  ExecCredentialSource(ExecConfig config, std::string server, std::string certificateAuthority,
                       Runner runner = {}, Clock now = {});

  // The cached credential while it has not expired, else the plugin's new one.
  Result<ExecCredential> get();
  // After a 401: the next get() runs the plugin again.
  void invalidate();
  uint64_t runs() const;

 private:
  std::string execInfo() const;

  const ExecConfig config_;
  const std::string server_;
  const std::string certificateAuthority_;
  Runner runner_;
  Clock now_;
  mutable std::mutex mutex_;
  std::optional<ExecCredential> cached_;
  uint64_t runs_ = 0;
};

}  // namespace l2a::kube

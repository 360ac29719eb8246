// ClientConfig: how to reach and authenticate to a kube-apiserver, from a kubeconfig file or
// the in-cluster service account. Plain value; loading reads files once (the token file is
// re-read by the transport when it changes).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "kube/exec_credential.h"

namespace l2a::kube {

struct ClientConfig {
  std::string server;                 // https://host:port or http://host:port
  std::string certificateAuthority;   // PEM; empty: the system trust store
  std::string clientCertificate;      // PEM
  std::string clientKey;              // PEM
  std::string bearerToken;
  std::string tokenFile;              // re-read when it changes (service-account rotation)
  std::optional<ExecConfig> exec;     // a credential plugin (users[].user.exec)
  bool insecureSkipTlsVerify = false;
  std::string namespace_;             // the context's namespace, if any
  double qps = 50;                    // client-side rate limit
  int burst = 100;
};

// kubeconfig: `context` empty means current-context. Relative file paths are resolved against
// the kubeconfig's directory; *-data fields are base64. A user's `exec` stanza is read (the
// transport runs the plugin); `auth-provider`, removed from kubectl in 1.26, is an error.
Result<ClientConfig> loadKubeconfig(const std::string& path, const std::string& context = "");
Result<ClientConfig> parseKubeconfig(const std::string& yaml, const std::string& baseDirectory,
                                     const std::string& context = "");

// In-cluster: KUBERNETES_SERVICE_HOST/PORT and the service account under `accountDirectory`.
Result<ClientConfig> loadInCluster(const std::map<std::string, std::string>& environment,
                                   const std::string& accountDirectory =
                                       "/var/run/secrets/kubernetes.io/serviceaccount");

// The precedence every l2a command uses: --kubeconfig, then $KUBECONFIG (first entry), then
// in-cluster.
Result<ClientConfig> resolveClientConfig(const std::string& kubeconfigFlag,
                                         const std::string& context,
                                         const std::map<std::string, std::string>& environment);

std::map<std::string, std::string> processEnvironment();

}  // namespace l2a::kube

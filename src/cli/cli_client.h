// The API client of the one-shot commands a person runs (explain, drain, uncordon): the
// kubeconfig resolved as kubectl does (--kubeconfig, $KUBECONFIG, in-cluster) and two retries,
// not the daemons' patience. Prints the one-line error itself.
#pragma once

#include <fmt/format.h>

#include <memory>
#include <string>

#include "kube/client.h"
#include "kube/client_config.h"
#include "kube/httplib_transport.h"

namespace l2a::cli {

struct CliClient {
  explicit CliClient(kube::ClientConfig config) : transport(std::move(config)), client(transport, {.maxRetries = 2}) {}
  kube::HttplibTransport transport;
  kube::Client client;  // holds a reference to `transport`: the pair never moves
};

// Null after printing "l2a: error: ..." when no configuration can be read (exit 64).
inline std::unique_ptr<CliClient> openCliClient(const std::string& kubeconfig, const std::string& context) {
  auto config = kube::resolveClientConfig(kubeconfig, context, kube::processEnvironment());
  if (!config) {
    fmt::print(stderr, "l2a: error: {}\n", config.error().message);
    return nullptr;
  }
  return std::make_unique<CliClient>(std::move(config).value());
}

}  // namespace l2a::cli

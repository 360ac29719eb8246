#include "cli/drain_command.h"

#include <fmt/format.h>

#include "agent/cluster_view.h"
#include "cli/cli_client.h"
#include "cli/exit_codes.h"
#include "kube/resource.h"

namespace l2a::cli {

int runDrain(const DrainOptions& options) {
  auto api = openCliClient(options.kubeconfig, options.context);
  if (!api) return kExitUsage;
  kube::Client& client = api->client;
  auto node = client.get(kube::resources::kNodes, "", options.node);
  if (!node) {
    bool missing = node.error().code == kube::ApiErrorCodes::kNotFound;
    fmt::print(stderr, "l2a: error: {}\n", missing ? fmt::format("node {} not found", options.node) : node.error().message);
    return missing ? kExitFailure : kExitSoftware;
  }
  const nlohmann::json labels = node->value("metadata", nlohmann::json::object()).value("labels", nlohmann::json::object());
  bool drained = labels.is_object() && labels.contains(agent::kDrainLabel);
  if (drained == options.drain) {
    fmt::print("node/{} was already {}\n", options.node, options.drain ? "drained" : "not drained");
  } else {
    // A merge patch of the one label: nothing else of the Node is touched, no conflict with
    // the kubelet's own writes.
    nlohmann::json patch{{"metadata", {{"labels", {{agent::kDrainLabel, options.drain ? nlohmann::json("true") : nlohmann::json()}}}}}};
    auto patched = client.patch(kube::resources::kNodes, "", options.node, patch);
    if (!patched) {
      fmt::print(stderr, "l2a: error: {}\n", patched.error().message);
      return kExitSoftware;
    }
    node = std::move(patched);
    if (options.drain) {
      fmt::print("node/{} drained: no plan uses it; its addresses move to other nodes, announced there before it lets go "
                 "(`l2a uncordon {}` gives it back)\n",
                 options.node, options.node);
    } else {
      fmt::print("node/{} uncordoned: plans may use it again\n", options.node);
    }
  }
  const nlohmann::json spec = node->value("spec", nlohmann::json::object());
  if (!options.drain && spec.is_object() && spec.value("unschedulable", nlohmann::json(false)) == nlohmann::json(true)) {
    fmt::print("node/{} is still cordoned (spec.unschedulable): agents avoid it until `kubectl uncordon {}`, unless "
               "they run with --avoid-cordoned-nodes=false\n",
               options.node, options.node);
  }
  return kExitOk;
}

}  // namespace l2a::cli

// Objects as the agents read them: any JSON object is taken as a Service, an EndpointSlice, a
// Node, that Node's Lease (its annotations, holder, times) and an L2 policy of both kinds, and
// goes through the real view building, lease liveness and planning. Malformed fields are
// problems of the view, never a crash or an exception (one Lease annotated
// {"eth0": true} once took every agent of a cluster down).
#include <nlohmann/json.hpp>
#include <string>

#include "agent/cluster_view.h"
#include "policy/assignment.h"
#include "policy/l2_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto object = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) return 0;
  auto now = std::chrono::system_clock::now();
  l2a::agent::ViewInputs in{
      .services = l2a::agent::eachOf({object}),
      .endpointSlices = l2a::agent::eachOf({object}),
      .policies = {l2a::policy::parsePolicy(object, "l2announcer.io"), l2a::policy::parsePolicy(object, "cilium.io")},
      .nodes = l2a::agent::eachOf({object}),
      .leaseOf = [&](const std::string&) -> std::optional<nlohmann::json> { return object; },
      .live = [&](const std::string& node, const nlohmann::json& lease) {
        return l2a::agent::leaseLiveByTimestamps(node, lease, now);
      }};
  auto view = l2a::agent::buildClusterView(in);
  auto plans = l2a::policy::planAddresses(view);
  (void)plans;
  return 0;
}

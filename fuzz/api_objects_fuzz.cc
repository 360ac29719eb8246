// Objects from the API server as the operator and the agents read them: any JSON document is
// taken as a pool, a Service, an L2 policy and a label selector, and the pool and Service go
// through the allocator. Bad objects give errors or conditions, never a crash or an exception.
#include <nlohmann/json.hpp>
#include <string>

#include "ipam/allocator.h"
#include "ipam/pool.h"
#include "ipam/service_request.h"
#include "k8s/label_selector.h"
#include "policy/l2_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto object = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  // Informers hand over objects only (the watch decoder rejects anything else); any field
  // inside may have any type.
  if (object.is_discarded() || !object.is_object()) return 0;
  for (const char* group : {"l2announcer.io", "cilium.io"}) {
    auto policy = l2a::policy::parsePolicy(object, group);
    (void)policy;
    l2a::ipam::Allocator allocator;
    allocator.setPools({l2a::ipam::parsePool(object, group)});
    auto result = allocator.reconcile(l2a::ipam::parseService(object));
    (void)result;
  }
  auto selector = l2a::k8s::LabelSelector::fromJson(object.value("selector", nlohmann::json::object()));
  (void)selector.ok();
  return 0;
}

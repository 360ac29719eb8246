// Strategic merge patch, as much of it as kubectl's client-side apply sends for core types:
// JSON merge patch semantics, plus list merging keyed by the fields of $setElementOrder items,
// `$patch: delete|replace`, `$deleteFromPrimitiveList/K` and `$retainKeys` (ignored). The lab
// server has no Go struct tags to read merge keys from; kubectl tells them through
// $setElementOrder; without one, `conditions` lists are merged by `type` (the merge key of the
// built-in kinds' conditions: what an agent's patch of a Service condition relies on). Pure.
#pragma once

#include <nlohmann/json.hpp>

namespace l2a::lab {

nlohmann::json applyStrategicMergePatch(const nlohmann::json& original, const nlohmann::json& patch);

}  // namespace l2a::lab

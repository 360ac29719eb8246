// Projection: the part of an API object a consumer reads, the rest dropped — what client-go's
// informer transforms are for. An agent on every node caches Services, EndpointSlices and Nodes;
// kept whole (managed fields, ports, images, conditions...) they cost kilobytes each. A path is
// a list of keys; "*" stands for every element of an array. A value whose type is not what the
// path expects (a string where an object should be) is kept as it is, so the consumer still
// sees the malformed field and says so. Pure, no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace l2a::k8s {

using Path = std::vector<std::string>;

nlohmann::json project(const nlohmann::json& object, const std::vector<Path>& keep);

// `fields` with what names an object: apiVersion, kind, metadata name, namespace, uid and
// resourceVersion.
std::vector<Path> withIdentity(std::vector<Path> fields);

// Keeps only the entries of `object`'s status.conditions of type `type` (a reader of one
// condition need not cache the others'); entries that are not objects stay, for the consumer to
// judge.
void keepCondition(nlohmann::json& object, std::string_view type);

// What the agent's plan reads (policy::serviceInfoFrom, agent::buildClusterView, Events).
const std::vector<Path>& agentServiceFields();
const std::vector<Path>& agentEndpointSliceFields();
const std::vector<Path>& agentNodeFields();

}  // namespace l2a::k8s

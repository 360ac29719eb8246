// What kube-apiserver does with a CRD's openAPIV3Schema, as far as the lab needs it: the
// structural-schema rules that refuse a CRD (additionalProperties beside properties, a
// property without a type), and pruning — a custom object loses every field its schema does
// not declare (unless x-kubernetes-preserve-unknown-fields), listed so that strict field
// validation can refuse them instead. Pure functions over JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace l2a::lab {

// Why a CRD version's schema is not structural, one line per violation, in kube-apiserver's
// words ("spec.validation.openAPIV3Schema.properties[spec].additionalProperties: Forbidden:
// additionalProperties and properties are mutual exclusive"); empty when it is.
std::vector<std::string> structuralErrors(const nlohmann::json& schema);

// Removes from `object` what `schema` does not declare (apiVersion, kind and metadata are kept
// at the root); returns the paths removed ("spec.blocks[0].color").
std::vector<std::string> prune(nlohmann::json& object, const nlohmann::json& schema);

}  // namespace l2a::lab

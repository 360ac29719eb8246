// `l2a migrate -f FILE...`: reads Cilium's (CiliumLoadBalancerIPPool, CiliumL2AnnouncementPolicy)
// and MetalLB's (IPAddressPool, L2Advertisement) manifests and prints the equivalent
// l2announcer.io/v1alpha1 objects as YAML, each preceded by a comment line for anything of its
// source that cannot be carried over exactly. Services need nothing: their Cilium, MetalLB and
// kube-vip annotations are read unchanged. Exit 0 when every object was read (notes or not), 1
// when a file holds something that is not a manifest, 64 on bad usage.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace l2a::cli {

struct MigrateOptions {
  std::vector<std::string> files;  // "-": standard input
};

int runMigrate(const MigrateOptions& options);

struct Migrated {
  nlohmann::json object;           // an l2announcer.io object
  std::vector<std::string> notes;  // what of its source is not carried over, one line each
};

struct Migration {
  std::vector<Migrated> objects;
  std::vector<std::string> notes;  // source objects left as they are, and why
};

// Pure: the objects of one or more manifests (already parsed) to their equivalents.
Migration migrate(const std::vector<nlohmann::json>& objects);

// YAML documents (a stream, `---` separated) to JSON values, typed as Kubernetes reads them
// (YAML 1.2 core schema for plain scalars). Errors name the document.
Result<std::vector<nlohmann::json>> parseYamlDocuments(const std::string& text);

// JSON to block YAML, strings quoted where a plain scalar would read back as another type.
std::string toYaml(const nlohmann::json& value);

}  // namespace l2a::cli

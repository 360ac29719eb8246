// `l2a drain NODE` and `l2a uncordon NODE`: set or remove the label l2announcer.io/drain on the
// Node. Every agent's plan leaves a drained node out, so its addresses move to the next node make
// before break (announced there before this node stops), and none comes back until uncordon.
// Exit 0 done (also when it was already so), 1 no such Node, 64 bad usage, 70 the API refused.
#pragma once

#include <string>

namespace l2a::cli {

struct DrainOptions {
  std::string kubeconfig;
  std::string context;
  std::string node;
  bool drain = true;  // false: uncordon
};

int runDrain(const DrainOptions& options);

}  // namespace l2a::cli

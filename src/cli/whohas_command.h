// `l2a whohas`: asks the wire who answers for an IP and prints every distinct owner.
// Exit status: 0 exactly one owner, 1 nobody answered, 2 several (a conflict), 64 bad usage.
#pragma once

#include <string>

namespace l2a::cli {

struct WhohasOptions {
  std::string interface;  // empty: the interface of the route to the address
  int timeoutMs = 1000;
  std::string output = "text";  // or "json"
  std::string address;
};

int runWhohas(const WhohasOptions& options);

}  // namespace l2a::cli

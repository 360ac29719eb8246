#include "common/version.h"

namespace l2a::common {

std::string_view version() { return L2A_VERSION; }

}  // namespace l2a::common

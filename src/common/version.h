// The project's version string, as set in the top-level CMakeLists (project VERSION).
// Immutable; safe from any thread.
#pragma once

#include <string_view>

namespace l2a::common {

std::string_view version();

}  // namespace l2a::common

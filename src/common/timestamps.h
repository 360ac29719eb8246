// Kubernetes timestamps: metav1.Time (RFC 3339, seconds, UTC) and metav1.MicroTime (RFC 3339
// with microseconds, UTC). Pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <string>

namespace l2a::common {

std::string rfc3339(std::chrono::system_clock::time_point t = std::chrono::system_clock::now());
std::string rfc3339Micros(std::chrono::system_clock::time_point t);

}  // namespace l2a::common

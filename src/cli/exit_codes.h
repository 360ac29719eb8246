// Exit statuses shared by every l2a subcommand (sysexits.h numbering for usage errors).
#pragma once

namespace l2a::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;     // bad arguments: one line on stderr
inline constexpr int kExitSoftware = 70;  // the system refused (no permission, netlink failure)

}  // namespace l2a::cli

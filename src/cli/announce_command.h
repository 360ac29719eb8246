// `l2a announce`: claims addresses on the selected interfaces until SIGINT/SIGTERM.
// Runs in the calling thread; returns the process exit status.
#pragma once

#include <string>
#include <vector>

#include "responder/responder.h"

namespace l2a::cli {

struct AnnounceOptions {
  std::vector<std::string> interfaces;  // regular expressions
  std::vector<std::string> addresses;
  responder::AnnouncementConfig announcements;
  responder::ReplyLimit replyLimit;
};

int runAnnounce(const AnnounceOptions& options);

}  // namespace l2a::cli

#include "cli/announce_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "cli/responder_host.h"

namespace l2a::cli {
namespace {

// "reason=count" for every drop reason seen.
std::vector<std::string> dropsByReason(const responder::PortCounters& c) {
  std::vector<std::string> out;
  for (size_t i = 0; i < packet::kDropReasonCount; ++i) {
    if (c.drops[i] == 0) continue;
    out.push_back(fmt::format("{}={}", packet::dropReasonName(static_cast<packet::DropReason>(i)), c.drops[i]));
  }
  return out;
}

}  // namespace


int runAnnounce(const AnnounceOptions& options) {
  std::vector<packet::IpAddress> addresses;
  for (const std::string& text : options.addresses) {
    auto address = packet::parseIpAddress(text);
    if (!address) {
      fmt::print(stderr, "l2a: error: invalid IP address '{}'\n", text);
      return kExitUsage;
    }
    addresses.push_back(*address);
  }
  auto selector = k8s::InterfaceSelector::create(options.interfaces);
  if (!selector) {
    fmt::print(stderr, "l2a: error: {}\n", selector.error().message);
    return kExitUsage;
  }

  // SIGINT/SIGTERM arrive through a signalfd in the loop, never in a handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  int signalFd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);

  auto host = ResponderHost::create(std::move(selector).value(), options.announcements);
  if (!host) {
    fmt::print(stderr, "l2a: error: {}\n", host.error().message);
    return kExitSoftware;
  }
  ResponderHost& h = **host;
  h.responder().setReplyLimit(options.replyLimit);
  if (h.responder().ports().empty()) {
    spdlog::warn("event=no_ports patterns=\"{}\" note=\"waiting for a matching interface to come up\"",
                 fmt::join(options.interfaces, ","));
  }
  h.loop().add(signalFd, [&h, signalFd] {
    signalfd_siginfo info;
    if (::read(signalFd, &info, sizeof info) == sizeof info) {
      spdlog::info("event=signal signal={}", strsignal(static_cast<int>(info.ssi_signo)));
      h.stop();
    }
  });
  for (const auto& address : addresses) {
    h.responder().claim(address);
    spdlog::info("event=claimed address={}", packet::toString(address));
  }
  h.run();
  for (const auto& address : addresses) {
    h.responder().release(address);
    spdlog::info("event=released address={}", packet::toString(address));
  }
  for (const auto& [name, c] : h.responder().counters()) {
    spdlog::info(
        "event=counters interface={} requests={} replies={} gratuitous_arp={} unsolicited_na={} "
        "send_errors={} drops=\"{}\"",
        name, c.requests(), c.replies(), c.gratuitousArps, c.unsolicitedAdvertisements,
        c.sendErrors, fmt::join(dropsByReason(c), ","));
  }
  ::close(signalFd);
  return kExitOk;
}

}  // namespace l2a::cli

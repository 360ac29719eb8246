// Netlink (rtnetlink over libmnl): link and address dumps, route lookups, and a subscription to
// link changes. Each function opens its own short-lived socket; a LinkWatcher owns one
// subscribed socket and is used from one thread.
#pragma once

#include <optional>
#include <vector>

#include "common/result.h"
#include "net/link_info.h"

struct mnl_socket;

namespace l2a::net {

Result<std::vector<LinkInfo>> dumpLinks();
Result<std::vector<InterfaceAddress>> dumpAddresses();

struct RouteLookup {
  int ifindex = 0;                                  // the interface the kernel would send on
  std::optional<packet::IpAddress> preferredSource;  // its RTA_PREFSRC, when it has one
};
Result<RouteLookup> routeTo(const packet::IpAddress& destination);

// Follows RTM_NEWLINK/RTM_DELLINK (and address changes) so callers re-read links when told.
class LinkWatcher {
 public:
  static Result<LinkWatcher> open();
  LinkWatcher(LinkWatcher&& other) noexcept;
  LinkWatcher& operator=(LinkWatcher&&) = delete;
  ~LinkWatcher();

  int fd() const;
  // Reads every pending notification; true when any of them was a link change (or the
  // socket overflowed, so changes may have been missed).
  bool drain();

 private:
  explicit LinkWatcher(mnl_socket* socket) : socket_(socket) {}
  mnl_socket* socket_;
};

}  // namespace l2a::net

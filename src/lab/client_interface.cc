#include "lab/client_interface.h"

#include <fmt/format.h>
#include <net/if.h>

#include "net/netlink.h"

namespace l2a::lab {

Result<ClientInterface> findClientInterface(const std::string& name) {
  ClientInterface out;
  out.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (out.ifindex == 0) return fail("usage", fmt::format("unknown interface '{}'", name));
  auto links = net::dumpLinks();
  if (!links) return fail("system", "cannot read the interfaces: " + links.error().message);
  auto addresses = net::dumpAddresses();
  if (!addresses) return fail("system", "cannot read the addresses: " + addresses.error().message);
  for (const auto& l : *links) {
    if (l.ifindex == out.ifindex) out.mac = l.mac;
  }
  for (const auto& a : *addresses) {
    if (a.ifindex != out.ifindex) continue;
    if (const auto* v4 = std::get_if<packet::Ipv4Address>(&a.address); v4 && !out.ipv4) out.ipv4 = *v4;
    if (const auto* v6 = std::get_if<packet::Ipv6Address>(&a.address); v6 && !v6->isLinkLocal() && !out.ipv6) {
      out.ipv6 = *v6;
    }
  }
  return out;
}

}  // namespace l2a::lab

#include "net/neighbor_probe.h"

#include <algorithm>

#include "packet/arp.h"
#include "packet/ethernet.h"
#include "packet/ndp.h"

namespace l2a::net {

using packet::Ipv4Address;
using packet::Ipv6Address;

NeighborProbe::NeighborProbe(const packet::MacAddress& ourMac, const packet::IpAddress& source,
                             const packet::IpAddress& target)
    : ourMac_(ourMac), source_(source), target_(target) {}

packet::Bytes NeighborProbe::request() const {
  if (const auto* v4 = std::get_if<Ipv4Address>(&target_)) {
    const auto* from = std::get_if<Ipv4Address>(&source_);
    return packet::buildArpRequest(ourMac_, from ? *from : Ipv4Address{}, *v4);
  }
  const auto* from = std::get_if<Ipv6Address>(&source_);
  return packet::buildNeighborSolicitation(ourMac_, from ? *from : Ipv6Address{},
                                           std::get<Ipv6Address>(target_));
}

std::optional<packet::MacAddress> NeighborProbe::answerFrom(packet::ByteSpan frame) const {
  auto eth = packet::parseEthernet(frame);
  if (!eth || eth->header.vlanTci || eth->header.source == ourMac_) return std::nullopt;
  if (const auto* v4 = std::get_if<Ipv4Address>(&target_)) {
    if (eth->header.etherType != packet::kEtherTypeArp) return std::nullopt;
    auto arp = packet::parseArp(eth->payload);
    if (!arp || arp->operation != packet::kArpReply || arp->senderIp != *v4) return std::nullopt;
    return arp->senderMac;
  }
  if (eth->header.etherType != packet::kEtherTypeIpv6) return std::nullopt;
  auto na = packet::parseNeighborAdvertisement(eth->payload);
  if (!na || na->target != std::get<Ipv6Address>(target_)) return std::nullopt;
  return na->targetLinkLayer.value_or(eth->header.source);
}

bool NeighborProbe::observe(packet::ByteSpan frame) {
  auto owner = answerFrom(frame);
  if (!owner) return false;
  if (std::find(owners_.begin(), owners_.end(), *owner) != owners_.end()) return false;
  owners_.push_back(*owner);
  return true;
}

}  // namespace l2a::net

// PortCounters: what the responder saw and did on one interface. A snapshot value; the live
// counters sit inside the Responder under its lock.
#pragma once

#include <array>
#include <cstdint>

#include "packet/drop_reason.h"

namespace l2a::responder {

struct PortCounters {
  uint64_t arpRequests = 0;        // ARP requests that reached the responder
  uint64_t neighborSolicitations = 0;
  uint64_t arpReplies = 0;         // answers sent
  uint64_t neighborAdvertisements = 0;
  uint64_t gratuitousArps = 0;     // announcements sent
  uint64_t unsolicitedAdvertisements = 0;
  uint64_t probes = 0;             // ownership probes sent (ARP probe, DAD-style NS)
  uint64_t sendErrors = 0;
  uint64_t conflicts = 0;          // others announcing an address we claim
  std::array<uint64_t, packet::kDropReasonCount> drops{};

  uint64_t drop(packet::DropReason reason) const { return drops[static_cast<size_t>(reason)]; }
  uint64_t requests() const { return arpRequests + neighborSolicitations; }
  uint64_t replies() const { return arpReplies + neighborAdvertisements; }
};

}  // namespace l2a::responder

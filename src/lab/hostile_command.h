// `l2a-lab hostile`: the hostile-packet sender of the bad-input suite. From a namespace on the
// responder's LAN it sends, one case at a time, malformed and spoofed ARP / NDP frames built
// from valid ones (truncated, wrong formats, bad checksums, hop limit < 255, multicast sources
// and targets, VLAN tags, lengths past the end, a gratuitous ARP storm) next to valid controls,
// and reports which were answered; or floods valid requests for a while and counts answers.
// Runs in the caller's thread.
#pragma once

#include <string>

namespace l2a::lab {

struct HostileOptions {
  std::string interface = "eth0";
  std::string target4;   // an IPv4 address the responder claims
  std::string target6;   // an IPv6 address the responder claims
  int listenMs = 100;    // how long to wait for an answer to each case
  int floodMs = 0;       // > 0: flood valid requests this long instead of the cases
};

// Exit code: 0 when every case got the expected treatment (or the flood ran), 1 otherwise,
// 64 for bad options. Prints one JSON document.
int runHostile(const HostileOptions& options);

}  // namespace l2a::lab

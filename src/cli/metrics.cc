#include "cli/metrics.h"

namespace l2a::cli {

void writeResponderMetrics(common::MetricsWriter& w, const responder::Responder& responder) {
  for (const auto& [port, c] : responder.counters()) {
    w.counter("l2a_arp_requests_total", "ARP frames seen by the responder", static_cast<double>(c.arpRequests), {{"interface", port}});
    w.counter("l2a_neighbor_solicitations_total", "IPv6 frames (NS) seen by the responder",
              static_cast<double>(c.neighborSolicitations), {{"interface", port}});
    w.counter("l2a_replies_total", "Answers sent", static_cast<double>(c.arpReplies), {{"interface", port}, {"kind", "arp"}});
    w.counter("l2a_replies_total", "Answers sent", static_cast<double>(c.neighborAdvertisements), {{"interface", port}, {"kind", "ndp"}});
    w.counter("l2a_gratuitous_total", "Gratuitous ARP / unsolicited NA sent", static_cast<double>(c.gratuitousArps),
              {{"interface", port}, {"kind", "arp"}});
    w.counter("l2a_gratuitous_total", "Gratuitous ARP / unsolicited NA sent",
              static_cast<double>(c.unsolicitedAdvertisements), {{"interface", port}, {"kind", "ndp"}});
    w.counter("l2a_probes_total", "Ownership probes sent while the node could not confirm its claims",
              static_cast<double>(c.probes), {{"interface", port}});
    w.counter("l2a_send_errors_total", "Frames the kernel refused to send", static_cast<double>(c.sendErrors), {{"interface", port}});
    for (size_t i = 0; i < packet::kDropReasonCount; ++i) {
      if (c.drops[i] == 0) continue;
      w.counter("l2a_drops_total", "Frames not answered, by reason", static_cast<double>(c.drops[i]),
                {{"interface", port}, {"reason", std::string(packet::dropReasonName(static_cast<packet::DropReason>(i)))}});
    }
  }
  w.gauge("l2a_claimed_addresses", "Addresses the responder answers for", static_cast<double>(responder.claimCount()));
}

void writeClientMetrics(common::MetricsWriter& w, const kube::Client& client) {
  for (const auto& [key, n] : client.requestCounts()) {
    w.counter("l2a_api_requests_total", "Kubernetes API requests by verb, resource and code", static_cast<double>(n),
              {{"verb", key.verb}, {"resource", key.resource}, {"code", std::to_string(key.code)}});
  }
  for (const auto& [key, l] : client.requestLatency()) {
    w.summary("l2a_api_request_duration_seconds", "Time in Kubernetes API requests", l.seconds, l.count,
              {{"verb", key.first}, {"resource", key.second}});
  }
}

void writeHeartbeatMetrics(common::MetricsWriter& w, const wire::Heartbeats& heartbeats) {
  wire::HeartbeatStats st = heartbeats.stats();
  w.counter("l2a_heartbeats_sent_total", "Heartbeat frames sent (one per port per interval)", static_cast<double>(st.sent));
  w.counter("l2a_heartbeat_send_failures_total", "Heartbeat frames the kernel refused", static_cast<double>(st.sendFailures));
  w.gauge("l2a_heartbeat_interval_seconds", "How often this node sends heartbeats now (grows with the segment)",
          std::chrono::duration<double>(st.interval).count());
  for (const auto& [reason, n] : st.rejected) {
    w.counter("l2a_heartbeats_rejected_total", "Heartbeat frames ignored, by reason", static_cast<double>(n),
              {{"reason", reason}});
  }
  // One series per peer up to kPerPeerSeries peers; past that (a big segment) the peers that are
  // heard and not excluded are summed into peer="(others)", so series do not grow with N².
  constexpr size_t kPerPeerSeries = 50;
  std::map<std::string, wire::PeerCounters> peers;
  for (const auto& [peer, c] : st.peers) {
    if (st.peers.size() <= kPerPeerSeries || c.excluded || !c.heard || c.silentInterfaces > 0) {
      peers[peer] = c;
      continue;
    }
    wire::PeerCounters& sum = peers["(others)"];
    sum.received += c.received;
    sum.missed += c.missed;
    sum.deadTransitions += c.deadTransitions;
    sum.heard = true;
  }
  for (const auto& [peer, c] : peers) {
    w.counter("l2a_heartbeats_received_total", "Heartbeats heard from each peer", static_cast<double>(c.received),
              {{"peer", peer}});
    w.counter("l2a_heartbeats_missed_total", "Heartbeats of each peer never heard (sequence gaps)",
              static_cast<double>(c.missed), {{"peer", peer}});
    w.counter("l2a_wire_dead_transitions_total", "Times each peer fell silent for longer than its window",
              static_cast<double>(c.deadTransitions), {{"peer", peer}});
    w.gauge("l2a_peer_heard", "1 while each peer is heard within its window", c.heard ? 1 : 0, {{"peer", peer}});
    w.gauge("l2a_peer_excluded", "1 while this node holds each peer wire-dead or held down", c.excluded ? 1 : 0,
            {{"peer", peer}});
    w.gauge("l2a_peer_interfaces_silent", "Interfaces of each peer held silent or down while it is heard on another",
            static_cast<double>(c.silentInterfaces), {{"peer", peer}});
  }
}

}  // namespace l2a::cli

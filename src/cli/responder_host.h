// ResponderHost: the real-world wiring of a Responder — an EventLoop, a netlink LinkWatcher and
// one AF_PACKET socket per selected, up interface. It follows links appearing, disappearing and
// changing state without restart. run() blocks the calling thread (the loop thread);
// responder() (claim/release) and stop() are safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "common/result.h"
#include "net/event_loop.h"
#include "k8s/interface_selector.h"
#include "net/netlink.h"
#include "net/packet_socket.h"
#include "responder/frame_io.h"
#include "responder/responder.h"
#include "wire/heartbeats.h"

namespace l2a::cli {

class ResponderHost : public responder::FrameIo {
 public:
  static Result<std::unique_ptr<ResponderHost>> create(k8s::InterfaceSelector interfaces,
                                                       responder::AnnouncementConfig config);
  responder::Responder& responder() { return responder_; }
  net::EventLoop& loop() { return loop_; }
  void run();
  void stop() { loop_.stop(); }
  // Called on the loop thread after every change of links (set before run()).
  void onLinksChanged(std::function<void()> observer) { linksChanged_ = std::move(observer); }
  // Before run(): send and read heartbeats on the same ports (wire/heartbeats.h); `changed` is
  // called on the loop thread when a verdict changes. Null until enabled.
  wire::Heartbeats& enableHeartbeats(wire::HeartbeatOptions options, std::function<void()> changed);
  wire::Heartbeats* heartbeats() { return heartbeats_.get(); }
  // A frame the kernel stamped `arrived` (wall clock), read at `now` (steady; the wall clock
  // then `wallNow`), on the steady clock: never before `lastDrain` (it was not queued then,
  // whatever step the wall clock made meanwhile) nor after `now`.
  static responder::Clock::time_point arrivalTime(responder::Clock::time_point now,
                                                  std::chrono::system_clock::time_point wallNow,
                                                  std::chrono::system_clock::time_point arrived,
                                                  responder::Clock::time_point lastDrain);

  bool send(int ifindex, packet::ByteSpan frame) override;
  void joinMulticast(int ifindex, const packet::MacAddress& group) override;
  void leaveMulticast(int ifindex, const packet::MacAddress& group) override;
  // Swaps the port socket's kernel filter for net::ClaimFilter's program when that differs from
  // the one attached; should the kernel refuse it, back to the one that passes every request
  // (logged once until one is taken).
  void filterClaims(int ifindex, std::span<const packet::IpAddress> claimed) override;

 private:
  ResponderHost(net::EventLoop loop, net::LinkWatcher watcher, k8s::InterfaceSelector interfaces,
                responder::AnnouncementConfig config);
  void refreshLinks();
  void receiveFrom(int ifindex);
  // Heartbeats are read when the loop turns (it turns to send ours and to judge the peers' at
  // the moment a window runs out), not woken for one by one: with N peers that is N wake-ups
  // per interval fewer. Each frame is judged at the kernel's time of arrival. PORTS: those
  // with a responder socket (a heartbeat socket is opened beside each, closed with it).
  void openHeartbeatSockets(const std::vector<responder::Port>& ports);
  void drainHeartbeats(responder::Clock::time_point now);

  net::EventLoop loop_;
  net::LinkWatcher watcher_;
  k8s::InterfaceSelector interfaces_;
  responder::Responder responder_;
  std::map<int, net::PacketSocket> sockets_;
  struct ClaimFilterState {
    std::vector<sock_filter> program;  // attached now; empty: the socket's first program
    bool refused = false;              // the kernel refused the last one (logged once)
  };
  std::map<int, ClaimFilterState> filters_;  // by ifindex, beside sockets_
  std::function<void()> linksChanged_;
  std::unique_ptr<wire::Heartbeats> heartbeats_;
  std::map<int, net::PacketSocket> heartbeatSockets_;  // by ifindex, beside sockets_
  responder::Clock::time_point lastDrain_ = responder::Clock::now();
  static constexpr int kHeartbeatsPerDrain = 4096;
  // The loop turns at least every kTurn; a frame handled more than kStall after the last turn
  // waited out a stall of the whole process (SIGSTOP, VM pause). Such frames are discarded
  // unread: answering them late could override the node that took over meanwhile.
  static constexpr std::chrono::milliseconds kTurn{250};
  static constexpr std::chrono::milliseconds kStall{1000};
  responder::Clock::time_point lastTurn_ = responder::Clock::now();
};

}  // namespace l2a::cli

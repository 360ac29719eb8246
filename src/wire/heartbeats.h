// Heartbeats: the wire side of node liveness. Sends a heartbeat on every port the responder
// uses, every interval; reads the heartbeats of the other agents on the segment into a
// Liveness; tells the agent when a verdict changes. The interval grows with the segment (every
// node aims at kSegmentBudget frames per second for all of them together), and each frame says
// the sender's interval, so observers judge each peer by its own.
// Threads: setPorts(), handleFrame() and tick() on the responder's loop thread (the one that
// owns the FrameIo); setAnnounced(), setKeys(), view() and stats() from any thread. Its lock
// is its own, held for no call out: the packet thread never waits on the control plane.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/pi_mutex.h"
#include "packet/bytes.h"
#include "packet/ip_address.h"
#include "responder/frame_io.h"
#include "responder/port.h"
#include "wire/heartbeat.h"
#include "wire/liveness.h"

namespace l2a::wire {

struct HeartbeatOptions {
  std::string node;
  std::chrono::milliseconds interval{40};  // the least interval; 0 turns heartbeats off
  LivenessOptions liveness;
  uint64_t incarnation = 0;  // 0: from the clock at start
  // Frames per second all nodes of a segment send together at most: with N nodes the interval
  // is at least N / kSegmentBudget seconds.
  static constexpr double kSegmentBudget = 1000;
};

// What the agent plans with.
struct WireView {
  bool enabled = false;
  bool isolated = false;            // we hear no peer at all
  std::set<std::string> excluded;   // nodes that must not take addresses now (maybe us), and
                                    // "node/interface": interfaces silent while the node is heard
  std::set<std::string> lastResort; // nodes held down after a silence: only when nobody else can
                                    // (and "node/interface" held down after a silence)
  std::set<std::string> heard;      // peers heard within their window now
  std::map<std::string, std::vector<packet::IpAddress>> announced;  // by peers heard now
  std::set<std::string> listedAll;  // peers heard now whose heartbeat lists all they announce
};

struct PeerCounters {
  uint64_t received = 0, missed = 0, deadTransitions = 0, restarts = 0;
  bool heard = false;     // within its window now
  bool excluded = false;  // held dead or down by us
  uint64_t silentInterfaces = 0;  // its interfaces we hold silent or down (heard on another)
};

struct HeartbeatStats {
  uint64_t sent = 0;
  uint64_t sendFailures = 0;
  std::chrono::milliseconds interval{0};
  std::map<std::string, uint64_t> rejected;  // by reason (heartbeatErrorName)
  std::map<std::string, PeerCounters> peers;
};

class Heartbeats {
 public:
  // `changed` is called on the loop thread, with no lock held, when a verdict changes.
  Heartbeats(responder::FrameIo& io, HeartbeatOptions options, std::function<void()> changed,
             Clock::time_point now = Clock::now());

  // Loop thread.
  void setPorts(const std::vector<responder::Port>& ports);
  // True when the frame was a heartbeat (taken here, never for the responder).
  bool handleFrame(int ifindex, packet::ByteSpan frame, Clock::time_point now = Clock::now());
  // Sends what is due and judges silences; returns when to call again.
  Clock::time_point tick(Clock::time_point now);

  // Any thread.
  void setAnnounced(std::vector<packet::IpAddress> addresses);
  // The first key signs; frames are accepted with any of them (rotation: new first, old second).
  // Empty: frames are neither signed nor checked.
  void setKeys(std::vector<std::string> keys);
  // Nodes the agent holds dead by their Lease though they are still heard (a node cut off from
  // the API server only): our heartbeats accuse them too, so such a node learns it and stands
  // aside instead of trusting the wire alone.
  void setLeaseDead(std::vector<std::string> nodes);
  WireView view(Clock::time_point now = Clock::now()) const;
  // The verdicts alone (enabled, isolated, excluded): what the packet thread reads on a change,
  // without copying what every peer lists.
  WireView verdicts(Clock::time_point now = Clock::now()) const;
  HeartbeatStats stats(Clock::time_point now = Clock::now()) const;

 private:
  std::chrono::milliseconds interval(Clock::time_point now) const;  // lock held
  void judge(WireView& out, Clock::time_point now) const;          // lock held: the verdicts

  responder::FrameIo& io_;
  const HeartbeatOptions options_;
  std::function<void()> changed_;
  std::vector<responder::Port> ports_;  // loop thread only
  std::set<int> joined_;                // loop thread only

  mutable common::PiMutex mutex_;  // shared with the packet thread: priority inheritance
  Liveness liveness_;
  std::vector<packet::IpAddress> announced_;
  std::vector<std::string> keys_;
  std::vector<std::string> leaseDead_;
  uint64_t sequence_ = 0;
  Clock::time_point nextSend_{};
  HeartbeatStats stats_;
};

}  // namespace l2a::wire

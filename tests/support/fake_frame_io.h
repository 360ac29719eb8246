// FakeFrameIo: an in-memory FrameIo that records sent frames, multicast memberships and claim
// filters, with a switch to make sends fail (fault injection). Single-threaded, like the loop it
// stands for.
#pragma once

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "responder/frame_io.h"

namespace l2a::testing {

class FakeFrameIo : public responder::FrameIo {
 public:
  struct Sent {
    int ifindex;
    packet::Bytes frame;
  };

  bool send(int ifindex, packet::ByteSpan frame) override {
    if (failSends) return false;
    sent.push_back({ifindex, packet::Bytes(frame.begin(), frame.end())});
    return true;
  }
  void joinMulticast(int ifindex, const packet::MacAddress& group) override {
    groups.insert({ifindex, group});
  }
  void leaveMulticast(int ifindex, const packet::MacAddress& group) override {
    groups.erase({ifindex, group});
  }
  void filterClaims(int ifindex, std::span<const packet::IpAddress> claimed) override {
    filters[ifindex] = std::set<packet::IpAddress>(claimed.begin(), claimed.end());
    sentWhenFiltered[ifindex] = sent.size();
    ++filterChanges;
  }
  std::vector<Sent> take() { return std::exchange(sent, {}); }

  bool failSends = false;
  std::vector<Sent> sent;
  std::set<std::pair<int, packet::MacAddress>> groups;
  std::map<int, std::set<packet::IpAddress>> filters;  // the claims each port was last told of
  std::map<int, size_t> sentWhenFiltered;  // frames sent before each port's last filter
  int filterChanges = 0;
};

}  // namespace l2a::testing

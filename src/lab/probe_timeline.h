// ProbeTimeline: what a fail-over prober saw for one service address, and the outages and
// overlaps computed from it. Two views: TCP connects (does the service answer a real client?)
// and neighbour windows (which MACs answered the ARP request / Neighbor Solicitation sent at the
// start of each probe interval?). Pure; owned by the prober, one thread. Times are milliseconds
// since the prober started.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace l2a::lab {

struct ProbePeriod {
  double startMs = 0;
  double endMs = 0;   // the first good sample after the period (or the last sample if none)
  int64_t samples = 0;  // requests lost / windows unanswered or overlapping in the period
  bool open = false;  // still going when the prober stopped
  std::vector<std::string> macs;  // overlaps: every MAC that answered during the period
  double lengthMs() const { return endMs - startMs; }
};

struct ProbeSummary {
  int64_t connects = 0;
  int64_t lost = 0;
  std::vector<ProbePeriod> gaps;         // runs of consecutive failed connects
  int64_t windows = 0;
  std::vector<ProbePeriod> unanswered;   // runs of windows nobody answered
  std::vector<ProbePeriod> overlaps;     // runs of windows two or more MACs answered
  struct OwnerChange {
    double atMs = 0;
    std::string mac;
  };
  std::vector<OwnerChange> owners;  // the answering MAC each time it changed (single answers)

  double longestGapMs() const;
  double longestUnansweredMs() const;
  double overlapMs() const;  // total
  nlohmann::json toJson() const;
};

class ProbeTimeline {
 public:
  void recordConnect(double sentMs, bool answered);
  // The MACs that answered the request sent at `sentMs` before the next one went out.
  void recordWindow(double sentMs, std::vector<std::string> macs);
  ProbeSummary summarize() const;

 private:
  struct Connect {
    double sentMs;
    bool answered;
  };
  struct Window {
    double sentMs;
    std::vector<std::string> macs;
  };
  std::vector<Connect> connects_;
  std::vector<Window> windows_;
};

}  // namespace l2a::lab

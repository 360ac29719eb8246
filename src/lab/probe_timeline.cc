#include "lab/probe_timeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace l2a::lab {
namespace {

// Maximal runs of samples for which `bad` holds, each ending at the next good sample.
template <typename Sample, typename Bad, typename OnSample>
std::vector<ProbePeriod> runs(const std::vector<Sample>& samples, Bad bad, OnSample onSample) {
  std::vector<ProbePeriod> out;
  bool inRun = false;
  for (const Sample& s : samples) {
    if (bad(s)) {
      if (!inRun) {
        out.push_back(ProbePeriod{s.sentMs, s.sentMs, 0, true, {}});
        inRun = true;
      }
      out.back().samples++;
      out.back().endMs = s.sentMs;
      onSample(out.back(), s);
    } else if (inRun) {
      out.back().endMs = s.sentMs;
      out.back().open = false;
      inRun = false;
    }
  }
  return out;
}

double longest(const std::vector<ProbePeriod>& periods) {
  double best = 0;
  for (const auto& p : periods) best = std::max(best, p.lengthMs());
  return best;
}

nlohmann::json periodsJson(const std::vector<ProbePeriod>& periods) {
  auto out = nlohmann::json::array();
  for (const auto& p : periods) {
    nlohmann::json j{{"startMs", p.startMs}, {"endMs", p.endMs}, {"lengthMs", p.lengthMs()},
                     {"samples", p.samples}, {"open", p.open}};
    if (!p.macs.empty()) j["macs"] = p.macs;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

void ProbeTimeline::recordConnect(double sentMs, bool answered) {
  connects_.push_back({sentMs, answered});
}

void ProbeTimeline::recordWindow(double sentMs, std::vector<std::string> macs) {
  std::sort(macs.begin(), macs.end());
  macs.erase(std::unique(macs.begin(), macs.end()), macs.end());
  windows_.push_back({sentMs, std::move(macs)});
}

ProbeSummary ProbeTimeline::summarize() const {
  ProbeSummary s;
  // Connects complete out of order; judge them in the order they were sent.
  std::vector<Connect> connects = connects_;
  std::stable_sort(connects.begin(), connects.end(),
                   [](const Connect& a, const Connect& b) { return a.sentMs < b.sentMs; });
  s.connects = static_cast<int64_t>(connects.size());
  for (const auto& c : connects) s.lost += c.answered ? 0 : 1;
  auto ignore = [](ProbePeriod&, const auto&) {};
  s.gaps = runs(connects, [](const Connect& c) { return !c.answered; }, ignore);
  s.windows = static_cast<int64_t>(windows_.size());
  s.unanswered = runs(windows_, [](const Window& w) { return w.macs.empty(); }, ignore);
  s.overlaps = runs(windows_, [](const Window& w) { return w.macs.size() > 1; },
                    [](ProbePeriod& p, const Window& w) {
                      for (const auto& m : w.macs) {
                        if (std::find(p.macs.begin(), p.macs.end(), m) == p.macs.end()) p.macs.push_back(m);
                      }
                    });
  for (const auto& w : windows_) {
    if (w.macs.size() != 1) continue;
    if (s.owners.empty() || s.owners.back().mac != w.macs[0]) s.owners.push_back({w.sentMs, w.macs[0]});
  }
  return s;
}

double ProbeSummary::longestGapMs() const { return longest(gaps); }
double ProbeSummary::longestUnansweredMs() const { return longest(unanswered); }
double ProbeSummary::overlapMs() const {
  double total = 0;
  for (const auto& p : overlaps) total += p.lengthMs();
  return total;
}

nlohmann::json ProbeSummary::toJson() const {
  auto owners = nlohmann::json::array();
  for (const auto& o : this->owners) owners.push_back({{"atMs", o.atMs}, {"mac", o.mac}});
  return {
      {"connects", connects},
      {"lost", lost},
      {"longestGapMs", longestGapMs()},
      {"gaps", periodsJson(gaps)},
      {"windows", windows},
      {"longestUnansweredMs", longestUnansweredMs()},
      {"unanswered", periodsJson(unanswered)},
      {"overlapMs", overlapMs()},
      {"overlaps", periodsJson(overlaps)},
      {"owners", owners},
  };
}

}  // namespace l2a::lab

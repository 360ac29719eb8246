#include "policy/rendezvous.h"

#include <cmath>
#include <limits>
#include <utility>

namespace l2a::policy {
namespace {

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

uint64_t stableHash(std::string_view key, std::string_view node) {
  return mix(fnv1a(node, fnv1a("|", fnv1a(key))));
}

double rendezvousScore(std::string_view key, const Candidate& candidate) {
  if (candidate.weight <= 0) return -std::numeric_limits<double>::infinity();
  // Hash to (0, 1), then -w / ln(u): the largest score wins with probability w / Σw.
  double u = (static_cast<double>(stableHash(key, candidate.node) >> 11) + 0.5) / 9007199254740992.0;
  return -candidate.weight / std::log(u);
}

std::pair<size_t, size_t> rankTwo(std::string_view key, const std::vector<Candidate>& candidates) {
  std::pair<size_t, size_t> out{kNoCandidate, kNoCandidate};
  double scores[2] = {-std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  // Ranked by score, ties by name; a weight of 0 still ranks (last), as the only candidate left.
  auto above = [&](double s, const std::string& node, double than, size_t thanAt) {
    return thanAt == kNoCandidate || s > than || (s == than && node < candidates[thanAt].node);
  };
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    double s = rendezvousScore(key, c);
    if (above(s, c.node, scores[0], out.first)) {
      out.second = std::exchange(out.first, i);
      scores[1] = std::exchange(scores[0], s);
    } else if (above(s, c.node, scores[1], out.second)) {
      out.second = i;
      scores[1] = s;
    }
  }
  return out;
}

std::string chooseOwner(std::string_view key, const std::vector<Candidate>& candidates) {
  size_t best = rankTwo(key, candidates).first;
  return best == kNoCandidate ? "" : candidates[best].node;
}

}  // namespace l2a::policy

// Rendezvous (highest-random-weight) hashing: every agent computes the same owner for a key
// from the same candidates, owners spread evenly, and removing a node moves only its own keys.
// Weighted with the logarithmic method (weight w wins about w/Σw of the keys). Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace l2a::policy {

struct Candidate {
  std::string node;
  double weight = 1.0;
};

uint64_t stableHash(std::string_view key, std::string_view node);
double rendezvousScore(std::string_view key, const Candidate& candidate);
// The candidate with the highest score ("" when none).
std::string chooseOwner(std::string_view key, const std::vector<Candidate>& candidates);
inline constexpr size_t kNoCandidate = static_cast<size_t>(-1);
// The positions of the two highest-scored candidates, in order (kNoCandidate where there are
// fewer): the second is who owns the key once the first is gone, at the cost of one pass.
std::pair<size_t, size_t> rankTwo(std::string_view key, const std::vector<Candidate>& candidates);

}  // namespace l2a::policy

#include "common/flat_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace l2a::common {
namespace {

// A FlatMap answers as a std::map does through any mix of inserts, assignments, lookups and
// erases (keys drawn at random, one map beside the other), and iterates in key order.
TEST(FlatMap, AnswersAsAStdMapThroughRandomChanges) {
  std::mt19937 random(7);
  FlatMap<std::string, int> flat;
  std::map<std::string, int> reference;
  for (int step = 0; step < 20000; ++step) {
    std::string key = "k" + std::to_string(random() % 500);
    int value = static_cast<int>(random() % 1000);
    switch (random() % 6) {
      case 0: flat[key] = value; reference[key] = value; break;
      case 1: flat.insert_or_assign(key, value); reference.insert_or_assign(key, value); break;
      case 2:
        ASSERT_EQ(flat.try_emplace(key, value).second, reference.try_emplace(key, value).second) << key;
        break;
      case 3: ASSERT_EQ(flat.erase(key), reference.erase(key)) << key; break;
      case 4: {
        auto it = flat.find(key);
        if (it != flat.end()) flat.erase(it);
        reference.erase(key);
        break;
      }
      default: {
        auto it = flat.find(key);
        auto ref = reference.find(key);
        ASSERT_EQ(it == flat.end(), ref == reference.end()) << key;
        if (it != flat.end()) {
          ASSERT_EQ(it->second, ref->second) << key;
        }
        ASSERT_EQ(flat.count(key), reference.count(key));
      }
    }
    ASSERT_EQ(flat.size(), reference.size());
  }
  EXPECT_TRUE(std::equal(flat.begin(), flat.end(), reference.begin(), reference.end(),
                         [](const auto& a, const auto& b) { return a.first == b.first && a.second == b.second; }));
}

// Built from entries in any order, of equal keys the last is kept; appendOrdered appends a key
// past every other and inserts any other where it belongs.
TEST(FlatMap, BuiltFromAnyOrderKeepsTheLastOfEqualKeys) {
  FlatMap<std::string, int> flat({{"c", 1}, {"a", 2}, {"b", 3}, {"a", 4}, {"c", 5}});
  EXPECT_EQ(flat, (FlatMap<std::string, int>({{"a", 4}, {"b", 3}, {"c", 5}})));
  ASSERT_EQ(flat.size(), 3u);
  EXPECT_EQ(flat.begin()->first, "a");
  EXPECT_EQ(flat.find("a")->second, 4);
  EXPECT_EQ(flat.find("c")->second, 5);
  flat.appendOrdered("d", 6);
  flat.appendOrdered("ab", 7);
  flat.appendOrdered("b", 8);
  std::vector<std::pair<std::string, int>> seen(flat.begin(), flat.end());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, int>>{{"a", 4}, {"ab", 7}, {"b", 8}, {"c", 5}, {"d", 6}}));
}


// Grown one entry at a time, in order or not, a map holds room for at most an eighth more than
// it has (a vector doubling would hold up to twice).
TEST(FlatMap, GrowsByAnEighthNotByDoubling) {
  FlatMap<int, int> ordered, shuffled;
  std::vector<int> keys(10000);
  for (int i = 0; i < 10000; ++i) keys[i] = i;
  for (int k : keys) ordered.appendOrdered(k, k);
  std::mt19937 random(7);
  std::shuffle(keys.begin(), keys.end(), random);
  for (int k : keys) shuffled[k] = k;
  for (const auto* map : {&ordered, &shuffled}) {
    ASSERT_EQ(map->size(), 10000u);
    EXPECT_LE(map->capacity(), map->size() + map->size() / 8 + 8);
  }
  EXPECT_EQ(ordered, shuffled);
}

// A large block is pages mapped for it alone (page-aligned, unmapped once freed); a small one
// comes from malloc (its memory stays mapped when freed).
TEST(MappedAllocator, ALargeBlockIsAMappingOfItsOwnGoneWhenFreed) {
  auto mapped = [](uintptr_t at) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
      auto dash = line.find('-');
      auto space = line.find(' ');
      if (std::stoull(line.substr(0, dash), nullptr, 16) <= at &&
          at < std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16)) {
        return true;
      }
    }
    return false;
  };
  MappedAllocator<std::pair<std::string, uint64_t>> allocator;
  size_t n = 10000;  // 400 KB
  auto* block = allocator.allocate(n);
  auto blockAt = reinterpret_cast<uintptr_t>(block);
  EXPECT_EQ(blockAt % 4096, 0u);
  EXPECT_TRUE(mapped(blockAt));
  allocator.deallocate(block, n);
  EXPECT_FALSE(mapped(blockAt)) << "still mapped once freed";
  auto* small = allocator.allocate(8);
  auto smallAt = reinterpret_cast<uintptr_t>(small);
  allocator.deallocate(small, 8);
  EXPECT_TRUE(mapped(smallAt)) << "a small block is malloc's";
  // So are a FlatMap's 10,000 entries.
  uintptr_t first = 0;
  {
    FlatMap<std::string, uint64_t> map;
    for (uint64_t i = 0; i < n; ++i) map[std::to_string(i)] = i;
    first = reinterpret_cast<uintptr_t>(&*map.begin());
    EXPECT_EQ(first % 4096, 0u);
  }
  EXPECT_FALSE(mapped(first)) << "the entries still mapped once the map is gone";
}

}  // namespace
}  // namespace l2a::common

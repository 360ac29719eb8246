// FlatMap: a map kept as one sorted vector of (key, value) — no allocation of its own per entry,
// and 40 to 50 bytes less per entry than a std::map node (its tree links and malloc's header).
// For the agent's maps of one entry per object, thousands of them at 10,000 Services: the
// informers' caches, the records held, the Service index, the planned owners. A lookup is a
// binary search; an insert or an erase moves the entries after it (tens of microseconds at
// 10,000), so it suits maps built at once and then changed an entry at a time. Any insert or
// erase invalidates iterators and references. Written here: C++23's std::flat_map is not in
// GCC 12, and Boost's would bring its 180 MB of headers for a few dozen lines.
#pragma once

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <utility>
#include <vector>

#include "common/mapped_allocator.h"

namespace l2a::common {

template <class K, class V>
class FlatMap {
 public:
  using value_type = std::pair<K, V>;
  // Large (10,000 entries), the entries are pages of their own (mapped_allocator.h).
  using Entries = std::vector<value_type, MappedAllocator<value_type>>;
  using iterator = typename Entries::iterator;
  using const_iterator = typename Entries::const_iterator;

  FlatMap() = default;
  // From entries in any order; of equal keys, the last.
  explicit FlatMap(std::vector<value_type> entries)
      : FlatMap(Entries(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()))) {}
  explicit FlatMap(Entries entries) : entries_(std::move(entries)) {
    std::stable_sort(entries_.begin(), entries_.end(), [](const value_type& a, const value_type& b) { return a.first < b.first; });
    auto last = std::unique(entries_.rbegin(), entries_.rend(),
                            [](const value_type& a, const value_type& b) { return a.first == b.first; });
    entries_.erase(entries_.begin(), last.base());
  }

  FlatMap(std::initializer_list<value_type> entries) : FlatMap(std::vector<value_type>(entries)) {}

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  template <class Key>
  iterator find(const Key& key) {
    auto it = lowerBound(entries_, key);
    return it != entries_.end() && it->first == key ? it : entries_.end();
  }
  template <class Key>
  const_iterator find(const Key& key) const {
    auto it = lowerBound(entries_, key);
    return it != entries_.end() && it->first == key ? it : entries_.end();
  }
  template <class Key>
  bool contains(const Key& key) const { return find(key) != end(); }
  template <class Key>
  size_t count(const Key& key) const { return contains(key) ? 1 : 0; }

  // As std::map's: an entry made with V's arguments unless KEY has one (left as it is).
  template <class... Args>
  std::pair<iterator, bool> try_emplace(const K& key, Args&&... args) {
    auto it = lowerBound(entries_, key);
    if (it != entries_.end() && it->first == key) return {it, false};
    auto at = it - entries_.begin();
    roomForOne();
    return {entries_.emplace(entries_.begin() + at, std::piecewise_construct, std::forward_as_tuple(key),
                             std::forward_as_tuple(std::forward<Args>(args)...)),
            true};
  }
  template <class M>
  std::pair<iterator, bool> insert_or_assign(const K& key, M&& value) {
    auto [it, added] = try_emplace(key);
    it->second = std::forward<M>(value);
    return {it, added};
  }
  V& operator[](const K& key) { return try_emplace(key).first->second; }
  // An entry whose key follows every other's (a map built in key order): appended, no search.
  // Any other key is inserted where it belongs.
  void appendOrdered(K key, V value) {
    if (entries_.empty() || entries_.back().first < key) {
      roomForOne();
      entries_.emplace_back(std::move(key), std::move(value));
    } else {
      insert_or_assign(key, std::move(value));
    }
  }

  iterator erase(iterator it) { return entries_.erase(it); }
  iterator erase(const_iterator it) { return entries_.erase(it); }
  template <class Key>
  size_t erase(const Key& key) {
    auto it = find(key);
    if (it == entries_.end()) return 0;
    entries_.erase(it);
    return 1;
  }
  void clear() { entries_.clear(); }
  void reserve(size_t n) { entries_.reserve(n); }
  size_t capacity() const { return entries_.capacity(); }
  // Gives back what growth reserved.
  void shrink_to_fit() { entries_.shrink_to_fit(); }

  bool operator==(const FlatMap&) const = default;

 private:
  template <class Entries, class Key>
  static auto lowerBound(Entries& entries, const Key& key) {
    return std::lower_bound(entries.begin(), entries.end(), key,
                            [](const value_type& e, const Key& k) { return e.first < k; });
  }

  // Grows by an eighth, not by doubling as a vector would: a map of 10,000 entries grown one at
  // a time would otherwise hold room for 16,384, a third of it never used (1.7 MiB of the
  // agent's 10,000 Announced conditions for 1.0 in use). An insert moves the entries after it
  // anyway, so the copies growth adds (about nine per entry) cost no more than the inserts do;
  // the buffers it leaves are mapped pages given back whole, not holes in an arena.
  void roomForOne() {
    if (entries_.size() == entries_.capacity()) entries_.reserve(entries_.size() + entries_.size() / 8 + 8);
  }

  Entries entries_;
};

}  // namespace l2a::common

// MappedAllocator: an allocator whose large blocks (64 KiB and more) are pages mapped for them
// alone (mmap) and given back whole when freed (munmap); smaller ones come from malloc.
// Why: glibc's malloc serves a large block from mmap only until the first such block is freed,
// then raises its threshold (up to 32 MiB) and serves the next ones from the thread's arena.
// There, a FlatMap of 10,000 entries growing step by step left each old buffer as a hole, which
// small long-lived objects (a Service's info, its labels) then filled a few at a time — pinning
// the arena's pages (docs/benchmarks.md: at 10,000 Services, the first agent's anonymous memory
// 25.4 MiB with the FlatMaps in arenas, 20.0 with them mapped).
// Written here: no Debian package has an allocator adaptor that maps large blocks.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace l2a::common {

template <class T>
struct MappedAllocator {
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "malloc's blocks would not be aligned enough");
  using value_type = T;
  static constexpr size_t kMappedFrom = 64 * 1024;

  MappedAllocator() = default;
  template <class U>
  MappedAllocator(const MappedAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes < kMappedFrom) return static_cast<T*>(::operator new(bytes));
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    size_t bytes = n * sizeof(T);
    if (bytes < kMappedFrom) {
      ::operator delete(p);
    } else {
      munmap(p, bytes);
    }
  }
  template <class U>
  bool operator==(const MappedAllocator<U>&) const noexcept { return true; }
};

}  // namespace l2a::common

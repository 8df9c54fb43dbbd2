// ArenaHeaps: the heaps glibc makes for threads other than the main one,
// on transparent huge pages too.
//
// With glibc.malloc.hugetlb=1 (cli/huge_pages.h) glibc 2.36 advises huge
// pages for the main thread's heap and for large mmap'd blocks, but not for
// the heaps of the other threads' arenas. Such a heap is a 64 MiB mapping
// (HEAP_MAX_SIZE on 64-bit), aligned on 64 MiB, reserved inaccessible and
// opened to read-write (mprotect) a few pages at a time as its arena grows:
// never advised, and never with a whole 2 MiB range open when it is first
// touched, so every page is a 4 KiB one. A simulation on two threads
// (`kad bench lookup --sim-threads 2`) grows the memory of half its nodes
// in such heaps; measured (docs/BENCH.md, "Huge pages for the second
// lane"), at 100,000 nodes the first thread then waited for the second at
// the windows' ends, and the join took 12 % longer than with this (at
// 1,000,000 nodes, where neither page size spares the TLB, no difference
// was measured).
//
// Tend() reads /proc/self/maps and, for each arena heap still partly
// reserved, opens the rest to read-write and advises the whole heap
// MADV_HUGEPAGE, so that the pages first touched from then on are huge
// ones. What it relies on: glibc only ever opens a heap further (mprotect
// to read-write, which changes nothing on pages already so) and gives
// memory back with MADV_DONTNEED, or by mapping the tail inaccessible again
// when overcommit is strict (the next Tend() opens it again). Opening costs
// address space, not memory: nothing is touched. Errors (an unreadable
// maps file, a refused mprotect) leave the heap as glibc made it.
//
// Not thread-safe; call from one thread (any: the heaps are the process's).
#ifndef KAD_BENCH_ARENA_HEAPS_H_
#define KAD_BENCH_ARENA_HEAPS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace kad::bench {

// The reserved tail of an arena heap: [begin, end), end the heap's end.
struct HeapTail {
  uintptr_t heap = 0;  // The heap's first byte.
  uintptr_t begin = 0;
  uintptr_t end = 0;
  friend bool operator==(const HeapTail&, const HeapTail&) = default;
};

// The arena heaps `maps` (the text of /proc/<pid>/maps) shows partly
// reserved: an anonymous private inaccessible mapping that starts inside a
// heap (kArenaHeapBytes, aligned) and ends at its end, right after an
// anonymous private read-write mapping that covers the heap's start. Lines
// it cannot read are skipped.
std::vector<HeapTail> ReservedHeapTails(std::string_view maps);

class ArenaHeaps {
 public:
  static constexpr uintptr_t kArenaHeapBytes = uintptr_t{64} << 20;

  // Tend() reads the maps at most once per `interval`.
  explicit ArenaHeaps(absl::Duration interval = absl::Milliseconds(100))
      : interval_(interval) {}

  // Opens and advises the heaps found partly reserved (see above), unless
  // the last look was less than `interval` ago. Cheap when it does not
  // look: one read of the clock.
  void Tend();

  // Heaps opened and advised so far.
  size_t heaps_advised() const { return heaps_advised_; }

 private:
  const absl::Duration interval_;
  absl::Time last_look_ = absl::InfinitePast();
  size_t heaps_advised_ = 0;
};

}  // namespace kad::bench

#endif  // KAD_BENCH_ARENA_HEAPS_H_

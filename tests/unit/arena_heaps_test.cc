#include "bench/arena_heaps.h"

#include <sys/mman.h>

#include <fstream>
#include <string>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kad::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Lines as /proc/<pid>/maps writes them (the path column aligned with
// spaces when there is one).
constexpr std::string_view kHeapPartlyOpen =
    "7f7254000000-7f7254421000 rw-p 00000000 00:00 0 \n"
    "7f7254421000-7f7258000000 ---p 00000000 00:00 0 \n";

TEST(ArenaHeapsTest, FindsTheReservedTailOfAPartlyOpenHeap) {
  EXPECT_THAT(
      ReservedHeapTails(kHeapPartlyOpen),
      ElementsAre(HeapTail{0x7f7254000000, 0x7f7254421000, 0x7f7258000000}));
}

TEST(ArenaHeapsTest, FindsAHeapWhoseOpenPartMergedWithTheHeapBefore) {
  // Two heaps side by side: the first wholly open, its mapping merged with
  // the open start of the second.
  EXPECT_THAT(
      ReservedHeapTails("7f724c000000-7f7250421000 rw-p 00000000 "
                        "00:00 0\n"
                        "7f7250421000-7f7254000000 ---p 00000000 "
                        "00:00 0\n"),
      ElementsAre(HeapTail{0x7f7250000000, 0x7f7250421000, 0x7f7254000000}));
}

TEST(ArenaHeapsTest, LeavesEverythingElseAlone) {
  // A wholly open heap; a wholly reserved 64 MiB after an open mapping; a
  // thread's stack above its guard page; a tail not ending on a 64 MiB
  // boundary; an open part starting inside the heap; a file mapping; named
  // mappings; a line that is not one.
  constexpr std::string_view kMaps =
      "7f7258000000-7f725c000000 rw-p 00000000 00:00 0 \n"
      "7f725c000000-7f7260000000 ---p 00000000 00:00 0 \n"
      "7f7260000000-7f7260001000 ---p 00000000 00:00 0 \n"
      "7f7260001000-7f7260801000 rw-p 00000000 00:00 0 \n"
      "7f7264000000-7f7264021000 rw-p 00000000 00:00 0 \n"
      "7f7264021000-7f7267fff000 ---p 00000000 00:00 0 \n"
      "7f7268400000-7f7268421000 rw-p 00000000 00:00 0 \n"
      "7f7268421000-7f726c000000 ---p 00000000 00:00 0 \n"
      "7f7270000000-7f7270021000 rw-p 00000000 08:01 1234   /usr/lib/x\n"
      "7f7270021000-7f7274000000 ---p 00000000 08:01 1234   /usr/lib/x\n"
      "7f7274000000-7f7274021000 rw-p 00000000 00:00 0      [heap]\n"
      "7f7274021000-7f7278000000 ---p 00000000 00:00 0      [anon:x]\n"
      "not a mapping\n"
      "7f727c000000-7f727b000000 rw-p 00000000 00:00 0 \n";
  EXPECT_THAT(ReservedHeapTails(kMaps), IsEmpty());
}

// The VmFlags line of the mapping starting at `begin` in /proc/self/smaps.
std::string VmFlagsOf(uintptr_t begin) {
  std::ifstream smaps("/proc/self/smaps");
  const std::string start = absl::StrFormat("%x-", begin);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0) continue;
    if (line[space - 1] != ':') {  // A mapping's first line.
      inside = line.rfind(start, 0) == 0;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

// Maps what glibc maps for an arena heap: 64 MiB on a 64 MiB boundary,
// reserved (inaccessible), its first MiB opened. Returns its start, or 0.
uintptr_t MapHeapLikeGlibc() {
  constexpr uintptr_t kHeap = ArenaHeaps::kArenaHeapBytes;
  void* area = mmap(nullptr, 2 * kHeap, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (area == MAP_FAILED) return 0;
  const uintptr_t start = reinterpret_cast<uintptr_t>(area);
  const uintptr_t heap = (start + kHeap - 1) & ~(kHeap - 1);
  if (heap > start) munmap(area, heap - start);
  munmap(reinterpret_cast<void*>(heap + kHeap), start + kHeap - heap);
  if (mprotect(reinterpret_cast<void*>(heap), 1 << 20,
               PROT_READ | PROT_WRITE) != 0) {
    return 0;
  }
  return heap;
}

TEST(ArenaHeapsTest, OpensAndAdvisesAHeapOfThisProcess) {
  constexpr uintptr_t kHeap = ArenaHeaps::kArenaHeapBytes;
  const uintptr_t heap = MapHeapLikeGlibc();
  ASSERT_NE(heap, 0u);
  auto* bytes = reinterpret_cast<volatile uint8_t*>(heap);
  bytes[0] = 1;

  ArenaHeaps heaps(absl::ZeroDuration());
  heaps.Tend();
  EXPECT_GE(heaps.heaps_advised(), 1u);
  EXPECT_THAT(VmFlagsOf(heap), HasSubstr(" hg"));  // Advised huge.
  // The reserved part is open now: writing there does not fault.
  bytes[kHeap - 1] = 2;
  EXPECT_EQ(bytes[kHeap - 1], 2);
  // And it is open for good: looking again finds nothing more to do here.
  const size_t advised = heaps.heaps_advised();
  heaps.Tend();
  EXPECT_EQ(heaps.heaps_advised(), advised);
  munmap(reinterpret_cast<void*>(heap), kHeap);
}

TEST(ArenaHeapsTest, LooksAtMostOncePerInterval) {
  ArenaHeaps heaps(absl::Hours(1));
  heaps.Tend();  // The first look.
  const uintptr_t heap = MapHeapLikeGlibc();
  ASSERT_NE(heap, 0u);
  const size_t advised = heaps.heaps_advised();
  heaps.Tend();  // Within the hour: does not look.
  EXPECT_EQ(heaps.heaps_advised(), advised);
  munmap(reinterpret_cast<void*>(heap), ArenaHeaps::kArenaHeapBytes);
}

}  // namespace
}  // namespace kad::bench

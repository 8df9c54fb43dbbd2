#include "bench/arena_heaps.h"

#include <sys/mman.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace kad::bench {
namespace {

// One line of /proc/<pid>/maps:
//   begin-end perms offset dev inode [name]
struct Mapping {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  absl::string_view perms;  // "rw-p", "---p", ...
  bool anonymous = false;   // No file, no name ([heap], [stack], ...).
};

std::optional<Mapping> ParseLine(absl::string_view line) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (fields.size() < 5) return std::nullopt;
  std::vector<absl::string_view> range = absl::StrSplit(fields[0], '-');
  Mapping mapping;
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t inode = 0;
  if (range.size() != 2 || !absl::SimpleHexAtoi(range[0], &begin) ||
      !absl::SimpleHexAtoi(range[1], &end) || begin >= end ||
      !absl::SimpleAtoi(fields[4], &inode)) {
    return std::nullopt;
  }
  mapping.begin = begin;
  mapping.end = end;
  mapping.perms = fields[1];
  mapping.anonymous = inode == 0 && fields.size() == 5;
  return mapping;
}

}  // namespace

std::vector<HeapTail> ReservedHeapTails(std::string_view maps) {
  constexpr uintptr_t kHeap = ArenaHeaps::kArenaHeapBytes;
  std::vector<HeapTail> tails;
  std::optional<Mapping> before;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(maps.data(), maps.size()), '\n',
                      absl::SkipEmpty())) {
    const std::optional<Mapping> mapping = ParseLine(line);
    if (!mapping) continue;
    const uintptr_t heap = mapping->begin & ~(kHeap - 1);
    if (before && mapping->anonymous && mapping->perms == "---p" &&
        mapping->begin > heap && mapping->end == heap + kHeap &&
        before->anonymous && before->perms == "rw-p" &&
        before->end == mapping->begin && before->begin <= heap) {
      tails.push_back(HeapTail{heap, mapping->begin, mapping->end});
    }
    before = mapping;
  }
  return tails;
}

void ArenaHeaps::Tend() {
  const absl::Time now = absl::Now();
  if (now - last_look_ < interval_) return;
  last_look_ = now;
  std::ifstream file("/proc/self/maps");
  const std::string maps((std::istreambuf_iterator<char>(file)),
                         std::istreambuf_iterator<char>());
  for (const HeapTail& tail : ReservedHeapTails(maps)) {
    if (mprotect(reinterpret_cast<void*>(tail.begin), tail.end - tail.begin,
                 PROT_READ | PROT_WRITE) != 0 ||
        madvise(reinterpret_cast<void*>(tail.heap), tail.end - tail.heap,
                MADV_HUGEPAGE) != 0) {
      continue;
    }
    ++heaps_advised_;
  }
}

}  // namespace kad::bench

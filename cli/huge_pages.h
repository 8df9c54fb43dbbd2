// Huge pages for the heap of a large simulation.
//
// A simulated overlay of 100,000 nodes or more is gigabytes of small
// per-node objects touched at random, and with 4 KiB pages most of those
// touches miss the TLB as well as the cache. glibc's malloc backs its heap
// with transparent huge pages when the tunable glibc.malloc.hugetlb=1 is
// set (glibc 2.35 and later; the kernel's THP mode must be "madvise" or
// "always"), but it reads tunables only when a program starts. So
// `kad bench lookup --sim` starts itself again with the tunable added to
// $GLIBC_TUNABLES (docs/BENCH.md, "Large protocol joins, third session": a
// 100,000-node protocol join takes 17 % less CPU). Seeded results do not
// change: only where the allocator's memory comes from does. The tunable
// covers the main thread's heap only; the simulator's other threads
// (`--sim-threads`) get theirs through bench/arena_heaps.h.
#ifndef KAD_CLI_HUGE_PAGES_H_
#define KAD_CLI_HUGE_PAGES_H_

#include <optional>
#include <string>
#include <string_view>

namespace kad::cli {

// `tunables` (a $GLIBC_TUNABLES value, empty if unset) with
// glibc.malloc.hugetlb=1 added, or nullopt if it sets that tunable
// already (to any value: the user's choice stands).
std::optional<std::string> WithHugePageTunable(std::string_view tunables);

// Whether this process was started with glibc.malloc.hugetlb set to 1.
bool HeapOnHugePages();

// Runs this program again (/proc/self/exe, same arguments) with the huge
// page tunable added to the environment. Returns only if it did not: the
// tunable was set already (a restarted program also takes back the name
// the exec of /proc/self/exe gave it, "exe"), or the exec failed (logged at
// debug level); the caller then goes on with the pages it has.
void RestartWithHugePageHeap(char** argv);

}  // namespace kad::cli

#endif  // KAD_CLI_HUGE_PAGES_H_

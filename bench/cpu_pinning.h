// Pins the calling thread to one CPU, for benchmarks that measure one
// core's throughput (`kad bench rpc --server-cpu/--client-cpu`).
//
// Thread-safe: affects the calling thread only.
#ifndef KAD_BENCH_CPU_PINNING_H_
#define KAD_BENCH_CPU_PINNING_H_

#include <sched.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kad::bench {

// Pins the calling thread to `cpu` (sched_setaffinity); a negative cpu
// leaves it where it is. Returns InvalidArgument naming the CPU if the OS
// refuses (no such CPU, or outside the process's allowed set).
inline absl::Status PinThisThread(int cpu) {
  if (cpu < 0) return absl::OkStatus();
  if (cpu >= CPU_SETSIZE) {
    return absl::InvalidArgumentError(absl::StrCat("no CPU ", cpu));
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot pin a thread to CPU ", cpu,
                     " (is it online and allowed for this process?)"));
  }
  return absl::OkStatus();
}

}  // namespace kad::bench

#endif  // KAD_BENCH_CPU_PINNING_H_

// The lookup benchmark (bench/lookup_bench.h) on real UDP: N nodes bound
// to 127.0.0.1 in this process on one libuv loop (bench/udp_overlay.h),
// joined, then the same puts and lookups as on the simulator. Latencies
// are real time; the median RTT is measured by pinging random pairs.
//
// Not thread-safe; `hooks.stop` may be set from a signal handler.
#ifndef KAD_BENCH_UDP_LOOKUP_BENCH_H_
#define KAD_BENCH_UDP_LOOKUP_BENCH_H_

#include "absl/status/statusor.h"
#include "bench/lookup_bench.h"

namespace kad::bench {

// InvalidArgument if the open-file limit cannot cover the sockets;
// Unavailable if a socket cannot be bound.
absl::StatusOr<LookupBenchReport> RunUdpLookupBench(
    const LookupBenchOptions& options, const BenchHooks& hooks);

}  // namespace kad::bench

#endif  // KAD_BENCH_UDP_LOOKUP_BENCH_H_

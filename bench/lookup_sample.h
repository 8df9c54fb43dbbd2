// LookupSample: what one benchmarked lookup cost and whether it worked.
// Shared by the Kademlia lookup benchmark (bench/lookup_bench.h) and the
// flooding baseline (bench/flooding.h), so both report in the same terms.
//
// Plain data.
#ifndef KAD_BENCH_LOOKUP_SAMPLE_H_
#define KAD_BENCH_LOOKUP_SAMPLE_H_

#include <cstdint>

#include "absl/time/time.h"

namespace kad::bench {

struct LookupSample {
  bool success = false;  // Found what it looked for (see the benchmark).
  int hops = 0;          // Round trips to the answer (flooding: its depth).
  // Kademlia: RPCs sent by the lookup. Flooding: datagrams sent.
  int messages = 0;
  uint64_t bytes = 0;     // Datagram bytes, requests and responses.
  absl::Duration latency;  // From start until the lookup finished.
};

}  // namespace kad::bench

#endif  // KAD_BENCH_LOOKUP_SAMPLE_H_

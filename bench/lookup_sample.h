// LookupSample: what one lookup cost, for the lookup benchmark (Kademlia and
// the flooding baseline alike).
#ifndef KAD_BENCH_LOOKUP_SAMPLE_H_
#define KAD_BENCH_LOOKUP_SAMPLE_H_

#include <cstdint>

#include "absl/time/time.h"

namespace kad::bench {

struct LookupSample {
  bool success = false;    // An answer reached the asker.
  int hops = 0;            // Hops (round trips) to the first answer.
  int messages = 0;        // Datagrams sent (requests and answers).
  uint64_t bytes = 0;      // Their payload bytes.
  absl::Duration latency;  // From the first send to the first answer.
};

}  // namespace kad::bench

#endif  // KAD_BENCH_LOOKUP_SAMPLE_H_

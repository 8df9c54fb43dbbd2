// The flooding baseline of `kad bench lookup --baseline flooding`: the
// same searches as the Kademlia lookups, answered by flooding an
// unstructured overlay of as many peers (bench/flooding.h), on the same
// link model and loss.
//
// Mapping: baseline search j repeats Kademlia lookup j (j < the number of
// searches), from the peer with the same index as the lookup's origin
// (modulo the size, for replacement nodes), for the peers that would hold
// the answer: a get's holders are the k nodes closest to the key's id
// among the overlay as built (where the puts stored it); a find_node's
// holder is the node truly closest to the target.
//
// Not thread-safe.
#ifndef KAD_BENCH_FLOODING_BASELINE_H_
#define KAD_BENCH_FLOODING_BASELINE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "bench/id_index.h"
#include "bench/lookup_bench.h"
#include "bench/lookup_phase.h"

namespace kad::bench {

// Runs min(options.baseline_lookups, lookups run) flooding searches.
absl::StatusOr<BaselineReport> RunFloodingBaseline(
    const LookupBenchOptions& options, const std::vector<PlannedLookup>& plan,
    const std::vector<LookupRecord>& kademlia, const IdIndex& built,
    double median_rtt_ms, const BenchHooks& hooks);

}  // namespace kad::bench

#endif  // KAD_BENCH_FLOODING_BASELINE_H_

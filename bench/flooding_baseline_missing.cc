// Built instead of flooding_baseline.cc while bench/flooding.cc (the
// flooding overlay, written on another branch) is not in the tree.
#include "bench/flooding_baseline.h"

namespace kad::bench {

absl::StatusOr<BaselineReport> RunFloodingBaseline(
    const LookupBenchOptions&, const std::vector<PlannedLookup>&,
    const std::vector<LookupRecord>&, const IdIndex&, double,
    const BenchHooks&) {
  return absl::UnimplementedError(
      "--baseline flooding: this kad was built without bench/flooding.cc");
}

}  // namespace kad::bench

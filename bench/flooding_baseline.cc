#include "bench/flooding_baseline.h"

#include <algorithm>
#include <utility>

#include "bench/flooding.h"
#include "bench/sim_overlay.h"

namespace kad::bench {

absl::StatusOr<BaselineReport> RunFloodingBaseline(
    const LookupBenchOptions& options, const std::vector<PlannedLookup>& plan,
    const std::vector<LookupRecord>& kademlia, const IdIndex& built,
    double median_rtt_ms, const BenchHooks& hooks) {
  size_t ran = 0;
  while (ran < kademlia.size() && kademlia[ran].ran) ++ran;
  const size_t count = std::min(options.baseline_lookups, ran);
  FloodingOptions flooding;
  flooding.seed = options.seed;
  flooding.degree = options.flooding_degree;
  flooding.network.link = options.link;
  flooding.network.loss = options.loss;
  FloodingOverlay overlay(flooding);
  overlay.Build(options.nodes);

  std::vector<LookupRecord> searches(count);
  for (size_t j = 0; j < count; ++j) {
    if (hooks.stop && hooks.stop->load()) break;
    const size_t origin = kademlia[j].origin % options.nodes;
    const size_t holders_wanted =
        plan[j].kind == LookupKind::kGet ? static_cast<size_t>(options.k) : 1;
    const std::vector<size_t> holders = built.Closest(
        plan[j].target, holders_wanted,
        plan[j].kind == LookupKind::kFindNode ? std::optional<size_t>(origin)
                                              : std::nullopt);
    searches[j].kind = plan[j].kind;
    searches[j].ran = true;
    searches[j].origin = origin;
    searches[j].sample = overlay.Search(origin, holders);
    if (hooks.progress) hooks.progress("baseline", j + 1, count);
  }
  BaselineReport report;
  report.flooding = Summarize(searches, 0, count, median_rtt_ms);
  report.lookups = report.flooding.lookups;
  report.kademlia_same =
      Summarize(kademlia, 0, report.lookups, median_rtt_ms);
  return report;
}

}  // namespace kad::bench

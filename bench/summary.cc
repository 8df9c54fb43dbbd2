#include "bench/summary.h"

#include <algorithm>
#include <cmath>

namespace kad::bench {

double NearestRank(const std::vector<double>& sorted, double percentile) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  // The small slack keeps e.g. 0.9 * 10 from rounding up to rank 10 when
  // floating point makes it 9.000000000000002.
  size_t rank = static_cast<size_t>(std::ceil(percentile / 100 * n - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

Summary Summarize(std::vector<double> samples) {
  Summary summary;
  if (samples.empty()) return summary;
  std::sort(samples.begin(), samples.end());
  double sum = 0;
  for (double sample : samples) sum += sample;
  summary.count = samples.size();
  summary.mean = sum / static_cast<double>(samples.size());
  summary.p50 = NearestRank(samples, 50);
  summary.p90 = NearestRank(samples, 90);
  summary.p99 = NearestRank(samples, 99);
  summary.max = samples.back();
  return summary;
}

}  // namespace kad::bench

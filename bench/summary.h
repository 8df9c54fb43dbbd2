// Summary: mean, percentiles and maximum of a set of samples, as every
// benchmark report states them.
//
// Percentiles are nearest-rank: with the n samples sorted ascending,
// pP is the sample at rank ceil(P/100 * n) (1-based), so it is always one
// of the samples, never an interpolation, and p100 is the maximum. With no
// samples every field is 0. The mean is the arithmetic mean, summed in
// ascending order so the result does not depend on the input order.
//
// Pure functions of their arguments.
#ifndef KAD_BENCH_SUMMARY_H_
#define KAD_BENCH_SUMMARY_H_

#include <cstddef>
#include <vector>

namespace kad::bench {

struct Summary {
  size_t count = 0;  // Samples summarized.
  double mean = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
  friend bool operator==(const Summary&, const Summary&) = default;
};

// Returns the nearest-rank `percentile` (0 < percentile <= 100) of
// `sorted`, which must be sorted ascending; 0 if it is empty.
double NearestRank(const std::vector<double>& sorted, double percentile);

// Summarizes `samples` (any order).
Summary Summarize(std::vector<double> samples);

}  // namespace kad::bench

#endif  // KAD_BENCH_SUMMARY_H_

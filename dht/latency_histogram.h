// LatencyHistogram: how many durations of some operation (the node's
// lookups) fell in each of a fixed set of buckets, since the node started —
// the cumulative counts a Prometheus histogram exports
// (`kad_lookup_duration_seconds`, runtime/prometheus_metrics.h).
//
// LatencyWindow answers "how long do lookups take lately" (percentiles of
// the last 1,024); this answers "how many took under X, ever", which
// monitoring systems aggregate across nodes and over any time range.
//
// Bucket upper bounds are fixed (kLatencyBucketBounds, from 1 ms to 10 s,
// about 2.5x apart), so histograms of different nodes add up. Memory: an
// idle histogram is one null pointer; the first sample allocates the counts
// (136 bytes), so a simulated node that never looks anything up pays 8
// bytes for it.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_LATENCY_HISTOGRAM_H_
#define KAD_DHT_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"

namespace kad::dht {

// Upper bounds of the finite buckets, ascending; one more bucket (+Inf)
// takes what is slower than the last.
inline constexpr std::array<absl::Duration, 13> kLatencyBucketBounds = {
    absl::Milliseconds(1),
    absl::Microseconds(2500),
    absl::Milliseconds(5),
    absl::Milliseconds(10),
    absl::Milliseconds(25),
    absl::Milliseconds(50),
    absl::Milliseconds(100),
    absl::Milliseconds(250),
    absl::Milliseconds(500),
    absl::Seconds(1),
    absl::Milliseconds(2500),
    absl::Seconds(5),
    absl::Seconds(10)};

// A histogram's counts at one moment, as plain data.
struct LatencyBuckets {
  // counts[i]: samples <= kLatencyBucketBounds[i] and greater than the
  // bound before (not cumulative); the last entry counts the rest (+Inf).
  std::array<uint64_t, kLatencyBucketBounds.size() + 1> counts{};
  absl::Duration sum;  // Of every sample.
  uint64_t count = 0;  // Samples in all buckets.
  friend bool operator==(const LatencyBuckets&,
                         const LatencyBuckets&) = default;
};

class LatencyHistogram {
 public:
  LatencyHistogram() = default;

  // Counts one duration in its bucket.
  void Add(absl::Duration sample);

  // Returns the counts so far (all zero before the first sample).
  LatencyBuckets Buckets() const;

 private:
  std::unique_ptr<LatencyBuckets> buckets_;  // Null until the first sample.
};

}  // namespace kad::dht

#endif  // KAD_DHT_LATENCY_HISTOGRAM_H_

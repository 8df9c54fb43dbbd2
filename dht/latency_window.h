// LatencyWindow: the most recent durations of some operation (the node's
// lookups), kept in a bounded ring, and their percentiles.
//
// Percentiles use the nearest-rank method: the p-th percentile of n
// samples is the ceil(p/100 * n)-th smallest, so every reported value is a
// duration that was actually measured. With no samples, all are zero.
//
// Every sample is also counted in a cumulative LatencyHistogram
// (histogram()), which forgets nothing: what Prometheus scrapes.
//
// Memory: the ring grows with the samples it holds (8 bytes each, whole
// nanoseconds) up to `capacity`; an idle window holds nothing, so a node
// that has run no lookup pays nothing for it (a simulator runs millions).
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_LATENCY_WINDOW_H_
#define KAD_DHT_LATENCY_WINDOW_H_

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "dht/latency_histogram.h"

namespace kad::dht {

struct LatencySummary {
  absl::Duration p50;
  absl::Duration p90;
  absl::Duration p99;
  absl::Duration max;
  friend bool operator==(const LatencySummary&,
                         const LatencySummary&) = default;
};

class LatencyWindow {
 public:
  static constexpr size_t kDefaultCapacity = 1024;

  // Keeps the last `capacity` samples; capacity must be positive.
  explicit LatencyWindow(size_t capacity = kDefaultCapacity);

  // Records one duration, forgetting the oldest once the window is full
  // (the histogram keeps counting it).
  void Add(absl::Duration sample);

  // Returns the percentiles of the samples in the window.
  LatencySummary Summary() const;

  // Every sample ever added, by bucket.
  const LatencyHistogram& histogram() const { return histogram_; }

  size_t size() const { return samples_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  // Nanoseconds; grows to capacity_, then a ring.
  std::vector<int64_t> samples_;
  size_t next_ = 0;  // Where the next sample goes.
  LatencyHistogram histogram_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_LATENCY_WINDOW_H_

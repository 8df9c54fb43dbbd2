#include "dht/latency_window.h"

#include <algorithm>
#include <cassert>

namespace kad::dht {
namespace {

// Returns the nearest-rank `percent`-th percentile of `sorted` (non-empty,
// ascending): the ceil(percent/100 * n)-th smallest.
absl::Duration NearestRank(const std::vector<absl::Duration>& sorted,
                           size_t percent) {
  const size_t rank = (percent * sorted.size() + 99) / 100;
  return sorted[std::max<size_t>(rank, 1) - 1];
}

}  // namespace

LatencyWindow::LatencyWindow(size_t capacity) : capacity_(capacity) {
  assert(capacity > 0);
  samples_.reserve(capacity);
}

void LatencyWindow::Add(absl::Duration sample) {
  if (samples_.size() < capacity_) {
    samples_.push_back(sample);
  } else {
    samples_[next_] = sample;
  }
  next_ = (next_ + 1) % capacity_;
}

LatencySummary LatencyWindow::Summary() const {
  if (samples_.empty()) return LatencySummary{};
  std::vector<absl::Duration> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  return LatencySummary{NearestRank(sorted, 50), NearestRank(sorted, 90),
                        NearestRank(sorted, 99), sorted.back()};
}

}  // namespace kad::dht

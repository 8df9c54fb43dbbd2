#include "dht/latency_window.h"

#include <algorithm>
#include <cassert>

namespace kad::dht {
namespace {

// Returns the nearest-rank `percent`-th percentile of `sorted` (non-empty,
// ascending): the ceil(percent/100 * n)-th smallest.
absl::Duration NearestRank(const std::vector<int64_t>& sorted, size_t percent) {
  const size_t rank = (percent * sorted.size() + 99) / 100;
  return absl::Nanoseconds(sorted[std::max<size_t>(rank, 1) - 1]);
}

}  // namespace

LatencyWindow::LatencyWindow(size_t capacity) : capacity_(capacity) {
  assert(capacity > 0);
}

void LatencyWindow::Add(absl::Duration sample) {
  histogram_.Add(sample);
  const int64_t nanos = absl::ToInt64Nanoseconds(sample);
  if (samples_.size() < capacity_) {
    // Grow by doubling, but never past capacity_.
    if (samples_.size() == samples_.capacity()) {
      samples_.reserve(
          std::min(capacity_, std::max<size_t>(8, 2 * samples_.size())));
    }
    samples_.push_back(nanos);
  } else {
    samples_[next_] = nanos;
  }
  next_ = (next_ + 1) % capacity_;
}

LatencySummary LatencyWindow::Summary() const {
  if (samples_.empty()) return LatencySummary{};
  std::vector<int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  return LatencySummary{NearestRank(sorted, 50), NearestRank(sorted, 90),
                        NearestRank(sorted, 99),
                        absl::Nanoseconds(sorted.back())};
}

}  // namespace kad::dht

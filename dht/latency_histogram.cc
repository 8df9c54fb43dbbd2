#include "dht/latency_histogram.h"

#include <algorithm>

namespace kad::dht {

void LatencyHistogram::Add(absl::Duration sample) {
  if (buckets_ == nullptr) buckets_ = std::make_unique<LatencyBuckets>();
  // The first bound not below the sample: a sample equal to a bound
  // belongs to that bound's bucket (Prometheus's `le`).
  const size_t index = std::lower_bound(kLatencyBucketBounds.begin(),
                                        kLatencyBucketBounds.end(), sample) -
                       kLatencyBucketBounds.begin();
  ++buckets_->counts[index];
  buckets_->sum += sample;
  ++buckets_->count;
}

LatencyBuckets LatencyHistogram::Buckets() const {
  return buckets_ == nullptr ? LatencyBuckets{} : *buckets_;
}

}  // namespace kad::dht

#include "dht/rtt_estimator.h"

#include <algorithm>

namespace kad::dht {

void RttEstimator::AddSample(absl::Duration rtt) {
  rtt = std::max(rtt, absl::ZeroDuration());
  if (!has_sample_) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
    has_sample_ = true;
  } else {
    // RFC 6298: alpha = 1/8, beta = 1/4.
    rttvar_ = rttvar_ * 3 / 4 + absl::AbsDuration(srtt_ - rtt) / 4;
    srtt_ = srtt_ * 7 / 8 + rtt / 8;
  }
  backoff_ = 1;
}

absl::Duration RttEstimator::Timeout(const RttBounds& bounds) const {
  absl::Duration base = has_sample_ ? srtt_ + 4 * rttvar_ : bounds.initial;
  return std::clamp(base * backoff_, bounds.min, bounds.max);
}

}  // namespace kad::dht

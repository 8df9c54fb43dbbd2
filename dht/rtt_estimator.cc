#include "dht/rtt_estimator.h"

#include <algorithm>
#include <cstdlib>

namespace kad::dht {

void RttEstimator::AddSample(absl::Duration rtt) {
  rtt = std::clamp(rtt, absl::ZeroDuration(), kMaxSample);
  const int64_t sample = absl::ToInt64Microseconds(rtt);
  if (!has_sample_) {
    srtt_us_ = static_cast<int32_t>(sample);
    rttvar_us_ = static_cast<int32_t>(sample / 2);
    has_sample_ = true;
  } else {
    // RFC 6298: alpha = 1/8, beta = 1/4.
    const int64_t srtt = srtt_us_, rttvar = rttvar_us_;
    rttvar_us_ =
        static_cast<int32_t>(rttvar * 3 / 4 + std::llabs(srtt - sample) / 4);
    srtt_us_ = static_cast<int32_t>(srtt * 7 / 8 + sample / 8);
  }
  backoff_ = 1;
}

absl::Duration RttEstimator::Timeout(const RttBounds& bounds) const {
  absl::Duration base =
      has_sample_
          ? absl::Microseconds(int64_t{srtt_us_} + 4 * int64_t{rttvar_us_})
          : bounds.initial;
  return std::clamp(base * backoff_, bounds.min, bounds.max);
}

}  // namespace kad::dht

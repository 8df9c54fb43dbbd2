// RttEstimator: TCP-style retransmission timeout (RFC 6298) for one peer.
//
// SRTT and RTTVAR are smoothed from samples; the timeout is SRTT + 4
// RTTVAR clamped to [min, max]. Before any sample it is `initial`. A
// timeout doubles the next one (backoff, up to 8x) until a sample arrives.
//
// Memory: 12 bytes. SRTT and RTTVAR are kept in whole microseconds, and
// samples are clamped to [0, kMaxSample]: far below anything that matters
// for a timeout, and small enough to keep one per recent peer.
//
// Pure value type; not thread-safe.
#ifndef KAD_DHT_RTT_ESTIMATOR_H_
#define KAD_DHT_RTT_ESTIMATOR_H_

#include <cstdint>

#include "absl/time/time.h"

namespace kad::dht {

struct RttBounds {
  absl::Duration initial = absl::Seconds(1);
  absl::Duration min = absl::Milliseconds(50);
  absl::Duration max = absl::Seconds(2);
};

class RttEstimator {
 public:
  // Longer samples count as this long.
  static constexpr absl::Duration kMaxSample = absl::Minutes(10);

  // Folds in one measured round trip.
  void AddSample(absl::Duration rtt);
  // Records that a request timed out: doubles the next timeout.
  void OnTimeout() { backoff_ = backoff_ < 8 ? backoff_ * 2 : backoff_; }

  // Returns the current retransmission timeout within `bounds`.
  absl::Duration Timeout(const RttBounds& bounds) const;
  bool has_sample() const { return has_sample_; }
  // Smoothed RTT, or ZeroDuration before the first sample.
  absl::Duration smoothed() const { return absl::Microseconds(srtt_us_); }

 private:
  int32_t srtt_us_ = 0;
  int32_t rttvar_us_ = 0;
  uint8_t backoff_ = 1;
  bool has_sample_ = false;
};

}  // namespace kad::dht

#endif  // KAD_DHT_RTT_ESTIMATOR_H_

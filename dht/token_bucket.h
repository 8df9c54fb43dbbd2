// TokenBucket: the rule of one token bucket, applied to state the caller
// keeps — a single int64 per bucket, so a table of a thousand sources
// costs eight bytes of bucket state each.
//
// The state is the bucket's "ready time" in nanoseconds: the moment the
// bucket would be full again if nothing more were taken (the virtual-
// scheduling form of a token bucket, the GCRA of ATM and of libraries such
// as redis-cell). Taking `cost` tokens moves it to
//     next = max(ready, now) + cost * ns_per_token
// and is allowed if next - now <= burst * ns_per_token, i.e. if the bucket
// holds at least `cost` tokens. A ready time at or before `now` is a full
// bucket (kFull is one at any time), and a table may forget such a bucket
// without changing any decision. Integer arithmetic: a decision is exact
// and the same on every platform.
//
// Thread-safe: immutable after construction; the state lives with the
// caller.
#ifndef KAD_DHT_TOKEN_BUCKET_H_
#define KAD_DHT_TOKEN_BUCKET_H_

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "absl/time/time.h"

namespace kad::dht {

// A sustained rate and a burst, in the bucket's unit (requests, bytes).
struct RateLimit {
  double per_second = 1;  // refill rate; > 0 and <= 1e9
  double burst = 1;       // capacity; >= 1
};

class TokenBucket {
 public:
  // The state of a bucket that is full at any time.
  static constexpr int64_t kFull = std::numeric_limits<int64_t>::min();

  // Builds a bucket that never refuses.
  TokenBucket() = default;
  explicit TokenBucket(RateLimit limit) {
    assert(limit.per_second > 0 && limit.per_second <= 1e9);
    assert(limit.burst >= 1);
    ns_per_token_ = std::max<int64_t>(1, std::llround(1e9 / limit.per_second));
    double capacity = limit.burst * static_cast<double>(ns_per_token_);
    capacity_ns_ = capacity >= kMaxCapacityNs ? kMaxCapacityNs
                                              : static_cast<int64_t>(capacity);
  }

  // Returns the ready time after taking `cost` tokens at `now_ns` from a
  // bucket whose ready time is `ready_ns`. Allowed() says if that may be
  // taken; the caller stores the result only if it is.
  int64_t Next(int64_t ready_ns, int64_t now_ns, int64_t cost = 1) const {
    return std::max(ready_ns, now_ns) + cost * ns_per_token_;
  }
  // Returns true if a ready time of `next_ns` (from Next) is within the
  // burst at `now_ns`.
  bool Allowed(int64_t next_ns, int64_t now_ns) const {
    return next_ns - now_ns <= capacity_ns_;
  }
  // Returns how many tokens a bucket with ready time `ready_ns` holds at
  // `now_ns` (the whole burst for an unlimited bucket).
  int64_t Available(int64_t ready_ns, int64_t now_ns) const {
    if (ns_per_token_ == 0) return std::numeric_limits<int64_t>::max();
    return (capacity_ns_ - (std::max(ready_ns, now_ns) - now_ns)) /
           ns_per_token_;
  }
  // Returns true if a bucket with ready time `ready_ns` is full at `now_ns`:
  // forgetting it changes nothing.
  static bool Full(int64_t ready_ns, int64_t now_ns) {
    return ready_ns <= now_ns;
  }
  bool unlimited() const { return ns_per_token_ == 0; }

  // Returns `now` as the nanosecond count buckets are kept in.
  static int64_t Nanos(absl::Time now) { return absl::ToUnixNanos(now); }

 private:
  // Bounds the capacity so that now + capacity cannot overflow.
  static constexpr int64_t kMaxCapacityNs = int64_t{1} << 61;

  int64_t ns_per_token_ = 0;  // 0: unlimited (Next never moves past now)
  int64_t capacity_ns_ = kMaxCapacityNs;
};

// Returns a bucket for `limit`, or one that never refuses if there is none.
inline TokenBucket BucketFor(const std::optional<RateLimit>& limit) {
  return limit ? TokenBucket(*limit) : TokenBucket();
}

}  // namespace kad::dht

#endif  // KAD_DHT_TOKEN_BUCKET_H_

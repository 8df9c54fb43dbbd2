// RejoinPolicy: when a node that could not join (or was cut off from the
// overlay) should try to join again — capped exponential backoff with
// jitter.
//
// The first attempt is due at once. After each failed attempt the next is
// due after a delay that starts at `first_delay`, is multiplied by
// `backoff` after every further consecutive failure up to `max_delay`, and
// is then shortened by a random share of up to `jitter` (drawn from the
// generator passed in), so nodes that lost their seeds together do not
// come back in lockstep. A successful join starts the backoff over.
//
// Why backoff: a node whose seeds are down for a minute should be back
// within seconds of their return, while thousands of nodes cut off for an
// hour should not ping dead seeds every few seconds all that time.
//
// Pure: time and randomness are passed in; it neither schedules nor
// sends. Used by runtime::Joiner for the join at startup; meant for the
// node's own "routing table empty: bootstrap again" check too, so that a
// node has one rejoin policy.
//
// Not thread-safe.
#ifndef KAD_DHT_REJOIN_POLICY_H_
#define KAD_DHT_REJOIN_POLICY_H_

#include "absl/random/bit_gen_ref.h"
#include "absl/time/time.h"

namespace kad::dht {

struct RejoinOptions {
  // Delay after the first failure: a seed that is restarting is usually
  // back within seconds.
  absl::Duration first_delay = absl::Seconds(5);
  // Each further consecutive failure multiplies the delay by this (>= 1).
  double backoff = 2.0;
  // The delay never grows past this: a seed that comes back is found
  // within this long.
  absl::Duration max_delay = absl::Minutes(5);
  // Each delay is multiplied by a factor drawn uniformly from
  // [1 - jitter, 1]; 0 turns jitter off. In [0, 1].
  double jitter = 0.5;
};

class RejoinPolicy {
 public:
  explicit RejoinPolicy(RejoinOptions options = {});

  // Returns whether a join attempt is due at `now`: at once before any
  // failure, else once the delay drawn by the last OnFailure has passed.
  bool Due(absl::Time now) const { return now >= next_attempt_; }

  // Notes that the attempt made at or before `now` failed. Returns the
  // delay until the next one is due (also next_attempt() - now).
  absl::Duration OnFailure(absl::Time now, absl::BitGenRef gen);

  // Notes that the node joined: the next failure waits first_delay again,
  // and an attempt is due at once.
  void OnSuccess();

  absl::Time next_attempt() const { return next_attempt_; }
  int consecutive_failures() const { return failures_; }

 private:
  RejoinOptions options_;
  int failures_ = 0;
  absl::Duration delay_;  // Before jitter; grows with failures_.
  absl::Time next_attempt_ = absl::InfinitePast();
};

}  // namespace kad::dht

#endif  // KAD_DHT_REJOIN_POLICY_H_

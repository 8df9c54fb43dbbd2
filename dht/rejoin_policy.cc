#include "dht/rejoin_policy.h"

#include <algorithm>
#include <cassert>
#include <random>

namespace kad::dht {

RejoinPolicy::RejoinPolicy(RejoinOptions options)
    : options_(options), delay_(options.first_delay) {
  assert(options_.first_delay > absl::ZeroDuration());
  assert(options_.max_delay >= options_.first_delay);
  assert(options_.backoff >= 1.0);
  assert(options_.jitter >= 0.0 && options_.jitter <= 1.0);
}

absl::Duration RejoinPolicy::OnFailure(absl::Time now, absl::BitGenRef gen) {
  delay_ = failures_ == 0
               ? options_.first_delay
               : std::min(delay_ * options_.backoff, options_.max_delay);
  ++failures_;
  absl::Duration delay = delay_;
  if (options_.jitter > 0.0) {
    delay *=
        std::uniform_real_distribution<double>(1.0 - options_.jitter, 1.0)(gen);
  }
  next_attempt_ = now + delay;
  return delay;
}

void RejoinPolicy::OnSuccess() {
  failures_ = 0;
  delay_ = options_.first_delay;
  next_attempt_ = absl::InfinitePast();
}

}  // namespace kad::dht

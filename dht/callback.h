// Callback: how every asynchronous operation of the node reports.
//
// Contract (STYLE §13): called exactly once, from the loop, never from
// inside the call that registered it.
#ifndef KAD_DHT_CALLBACK_H_
#define KAD_DHT_CALLBACK_H_

#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dht/timer_set.h"

namespace kad::dht {

template <typename T>
using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

// Calls `done(status)` from the loop (through `timers`), never inside the
// caller's call.
template <typename T>
void FailSoon(TimerSet& timers, Callback<T> done, absl::Status status) {
  timers.Schedule(absl::ZeroDuration(),
                  [done = std::move(done), status]() mutable {
                    done(status);
                  });
}

}  // namespace kad::dht

#endif  // KAD_DHT_CALLBACK_H_

// Clock: the time and timer seam between the protocol core and the world.
//
// The libuv implementation reads the loop's time and uses uv timers; the
// simulator advances virtual time. dht/ never reads the system clock.
//
// Contract: a scheduled callback runs exactly once, on the loop thread,
// no earlier than `delay` after Schedule(), never from inside Schedule();
// Cancel() of a timer that already ran or was cancelled is a no-op.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_NET_CLOCK_H_
#define KAD_NET_CLOCK_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace kad::net {

using TimerId = uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;

  // Returns the current time (wall-clock based for real clocks, virtual
  // in the simulator).
  virtual absl::Time Now() const = 0;

  // Runs `fn` once after `delay`. Returns an id for Cancel(); never 0.
  virtual TimerId Schedule(absl::Duration delay,
                           absl::AnyInvocable<void()> fn) = 0;

  // Cancels a pending timer; `fn` is destroyed without being called.
  virtual void Cancel(TimerId id) = 0;
};

}  // namespace kad::net

#endif  // KAD_NET_CLOCK_H_

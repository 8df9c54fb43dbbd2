// UvClock: net::Clock on a libuv loop, one uv_timer_t per scheduled call.
//
// Now() is wall-clock time (absl::Now()), so absolute record expiry means
// the same thing on every machine; timers run on the loop's monotonic
// clock and never fire before their delay has passed.
//
// Each timer handle is heap-allocated and freed in its close callback, so
// Cancel() and the destructor need the loop to run again (at the latest in
// ~UvLoop) to release the handle memory; the callback itself is destroyed
// at once.
//
// Lifetime: `loop` must outlive the clock. Not thread-safe; call from the
// loop thread.
#ifndef KAD_NET_UV_CLOCK_H_
#define KAD_NET_UV_CLOCK_H_

#include <uv.h>

#include <cstddef>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "net/clock.h"

namespace kad::net {

class UvClock : public Clock {
 public:
  explicit UvClock(uv_loop_t* loop) : loop_(loop) {}
  UvClock(const UvClock&) = delete;
  UvClock& operator=(const UvClock&) = delete;
  // Cancels every pending timer without calling it.
  ~UvClock() override;

  absl::Time Now() const override { return absl::Now(); }
  TimerId Schedule(absl::Duration delay,
                   absl::AnyInvocable<void()> fn) override;
  void Cancel(TimerId id) override;

  // Returns the number of timers scheduled and not yet run or cancelled.
  size_t pending() const { return timers_.size(); }

 private:
  struct Timer;

  static void OnTimer(uv_timer_t* handle);
  // Stops and closes `timer`'s handle; the close callback frees `timer`.
  static void Release(Timer* timer);

  uv_loop_t* loop_;
  TimerId next_id_ = 1;
  absl::flat_hash_map<TimerId, Timer*> timers_;
};

}  // namespace kad::net

#endif  // KAD_NET_UV_CLOCK_H_

#include "net/uv_clock.h"

#include <utility>

#include "net/uv_loop.h"

namespace kad::net {

struct UvClock::Timer {
  uv_timer_t handle;
  UvClock* clock;
  TimerId id;
  absl::AnyInvocable<void()> fn;
};

UvClock::~UvClock() {
  // Swapped out first: a callback's destructor may call Cancel().
  absl::flat_hash_map<TimerId, Timer*> timers;
  timers.swap(timers_);
  for (auto& [id, timer] : timers) Release(timer);
}

TimerId UvClock::Schedule(absl::Duration delay, absl::AnyInvocable<void()> fn) {
  TimerId id = next_id_++;
  auto* timer = new Timer{{}, this, id, std::move(fn)};
  uv_timer_init(loop_, &timer->handle);
  timer->handle.data = timer;
  timers_[id] = timer;
  // The loop's cached time may be stale; refresh it so the delay counts
  // from now.
  uv_update_time(loop_);
  uv_timer_start(&timer->handle, &UvClock::OnTimer, UvTimeoutMs(delay), 0);
  return id;
}

void UvClock::Cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  Timer* timer = it->second;
  timers_.erase(it);
  Release(timer);
}

void UvClock::OnTimer(uv_timer_t* handle) {
  auto* timer = static_cast<Timer*>(handle->data);
  timer->clock->timers_.erase(timer->id);
  absl::AnyInvocable<void()> fn = std::move(timer->fn);
  Release(timer);
  // Nothing touches the clock after this: `fn` may destroy it.
  fn();
}

void UvClock::Release(Timer* timer) {
  timer->fn = nullptr;
  uv_timer_stop(&timer->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer->handle),
           [](uv_handle_t* h) { delete static_cast<Timer*>(h->data); });
}

}  // namespace kad::net

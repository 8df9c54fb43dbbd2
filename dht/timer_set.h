// TimerSet: timers owned by one object, all cancelled when it goes away.
//
// Anything that schedules callbacks capturing `this` on a borrowed
// net::Clock holds a TimerSet, so no callback outlives its owner.
//
// Memory: 16 bytes per live timer; the storage of a burst is given back
// once the timers have run (ReleaseIfSparse).
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_TIMER_SET_H_
#define KAD_DHT_TIMER_SET_H_

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "dht/release_if_sparse.h"
#include "net/clock.h"

namespace kad::dht {

class TimerSet {
 public:
  explicit TimerSet(net::Clock& clock) : clock_(clock) {}
  ~TimerSet() {
    for (const auto& [id, clock_id] : live_) clock_.Cancel(clock_id);
  }
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  // Runs `fn` once after `delay` unless cancelled or this set is destroyed.
  // Returns this set's own id for the timer (never 0).
  net::TimerId Schedule(absl::Duration delay, absl::AnyInvocable<void()> fn) {
    const net::TimerId id = next_id_++;
    live_[id] =
        clock_.Schedule(delay, [this, id, fn = std::move(fn)]() mutable {
          live_.erase(id);
          ReleaseIfSparse(live_);
          fn();
        });
    return id;
  }

  void Cancel(net::TimerId id) {
    auto it = live_.find(id);
    if (it == live_.end()) return;
    clock_.Cancel(it->second);
    live_.erase(it);
    ReleaseIfSparse(live_);
  }

  size_t size() const { return live_.size(); }

 private:
  net::Clock& clock_;
  net::TimerId next_id_ = 1;
  // Our id -> the clock's id, for timers that have not run yet.
  absl::flat_hash_map<net::TimerId, net::TimerId> live_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_TIMER_SET_H_

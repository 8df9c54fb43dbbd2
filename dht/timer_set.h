// TimerSet: timers owned by one object, all cancelled when it goes away.
//
// Anything that schedules callbacks capturing `this` on a borrowed
// net::Clock holds a TimerSet, so no callback outlives its owner.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_TIMER_SET_H_
#define KAD_DHT_TIMER_SET_H_

#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "net/clock.h"

namespace kad::dht {

class TimerSet {
 public:
  explicit TimerSet(net::Clock& clock) : clock_(clock) {}
  ~TimerSet() {
    for (net::TimerId id : live_) clock_.Cancel(id);
  }
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  // Runs `fn` once after `delay` unless cancelled or this set is destroyed.
  net::TimerId Schedule(absl::Duration delay, absl::AnyInvocable<void()> fn) {
    // The id is known only after Schedule returns; the callback looks it
    // up through a slot filled in right after.
    auto slot = std::make_unique<net::TimerId>(0);
    net::TimerId* id_slot = slot.get();
    net::TimerId id = clock_.Schedule(
        delay, [this, slot = std::move(slot), fn = std::move(fn)]() mutable {
          live_.erase(*slot);
          fn();
        });
    *id_slot = id;
    live_.insert(id);
    return id;
  }

  void Cancel(net::TimerId id) {
    if (live_.erase(id) > 0) clock_.Cancel(id);
  }

  size_t size() const { return live_.size(); }

 private:
  net::Clock& clock_;
  absl::flat_hash_set<net::TimerId> live_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_TIMER_SET_H_

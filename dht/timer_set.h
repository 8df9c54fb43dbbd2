// TimerSet: timers owned by one object, all cancelled when it goes away.
//
// Anything that schedules callbacks capturing `this` on a borrowed
// net::Clock holds a TimerSet, so no callback outlives its owner.
//
// Memory: a node holds seven of these and a simulated overlay a million
// nodes, most of them idle. An idle set is 24 bytes (the clock, its next
// id, and an empty pointer); the map of live timers (16 bytes a timer) is
// allocated with the first timer and freed with the last, so a burst's
// storage goes back once its timers have run.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_TIMER_SET_H_
#define KAD_DHT_TIMER_SET_H_

#include <memory>

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
    if (!live_) return;
    for (const auto& [id, clock_id] : *live_) clock_.Cancel(clock_id);
  }
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  // Runs `fn` once after `delay` unless cancelled or this set is destroyed.
  // Returns this set's own id for the timer (never 0). Ids are never
  // reused, so cancelling a timer that has run is harmless.
  net::TimerId Schedule(absl::Duration delay, absl::AnyInvocable<void()> fn) {
    const net::TimerId id = next_id_++;
    const net::TimerId clock_id =
        clock_.Schedule(delay, [this, id, fn = std::move(fn)]() mutable {
          Forget(live_->find(id));
          fn();
        });
    if (!live_) live_ = std::make_unique<Map>();
    (*live_)[id] = clock_id;
    return id;
  }

  void Cancel(net::TimerId id) {
    if (!live_) return;
    auto it = live_->find(id);
    if (it == live_->end()) return;
    clock_.Cancel(it->second);
    Forget(it);
  }

  size_t size() const { return live_ ? live_->size() : 0; }

 private:
  // Our id -> the clock's id, for timers that have not run yet.
  using Map = absl::flat_hash_map<net::TimerId, net::TimerId>;

  void Forget(Map::iterator it) {
    live_->erase(it);
    if (live_->empty()) {
      live_.reset();
    } else {
      ReleaseIfSparse(*live_);
    }
  }

  net::Clock& clock_;
  net::TimerId next_id_ = 1;
  std::unique_ptr<Map> live_;  // Null while no timer is live.
};

}  // namespace kad::dht

#endif  // KAD_DHT_TIMER_SET_H_
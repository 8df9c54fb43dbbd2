// FakeClock: a net::Clock in virtual time for unit tests.
//
// Time moves only when the test calls Advance() or RunUntilIdle(); timers
// fire in (due time, scheduling order), so runs are deterministic.
//
// Not thread-safe.
#ifndef KAD_TESTS_TESTING_FAKE_CLOCK_H_
#define KAD_TESTS_TESTING_FAKE_CLOCK_H_

#include <map>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "net/clock.h"

namespace kad::testing {

class FakeClock : public net::Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000))
      : now_(start) {}

  absl::Time Now() const override { return now_; }
  net::TimerId Schedule(absl::Duration delay,
                        absl::AnyInvocable<void()> fn) override;
  void Cancel(net::TimerId id) override;

  // Runs every timer due within `delta`, in order, then sets the time to
  // now + delta.
  void Advance(absl::Duration delta);
  // Runs timers, advancing time to each, until none is left or `limit`
  // virtual time has passed. Returns the number of timers run.
  size_t RunUntilIdle(absl::Duration limit = absl::Hours(1));
  // Runs the earliest timer, if any, advancing time to it.
  bool RunNext();
  size_t pending() const { return timers_.size(); }

 private:
  using Key = std::pair<absl::Time, net::TimerId>;
  absl::Time now_;
  net::TimerId next_id_ = 1;
  std::map<Key, absl::AnyInvocable<void()>> timers_;
  std::map<net::TimerId, absl::Time> due_by_id_;
};

}  // namespace kad::testing

#endif  // KAD_TESTS_TESTING_FAKE_CLOCK_H_

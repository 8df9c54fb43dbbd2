#include "dht/timer_set.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "net/sim_clock.h"

namespace kad::dht {
namespace {

TEST(TimerSetTest, RunsTimersInOrderAndForgetsThem) {
  net::SimClock clock;
  TimerSet timers(clock);
  std::vector<int> ran;
  timers.Schedule(absl::Seconds(2), [&] { ran.push_back(2); });
  timers.Schedule(absl::Seconds(1), [&] { ran.push_back(1); });
  EXPECT_EQ(timers.size(), 2u);
  clock.RunFor(absl::Seconds(3));
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  EXPECT_EQ(timers.size(), 0u);
}

TEST(TimerSetTest, CancelledTimerNeverRuns) {
  net::SimClock clock;
  TimerSet timers(clock);
  bool ran = false;
  const net::TimerId id = timers.Schedule(absl::Seconds(1), [&] { ran = true; });
  timers.Cancel(id);
  EXPECT_EQ(timers.size(), 0u);
  clock.RunFor(absl::Seconds(2));
  EXPECT_FALSE(ran);
}

TEST(TimerSetTest, IdOfATimerThatRanNeverCancelsALaterOne) {
  net::SimClock clock;
  TimerSet timers(clock);
  const net::TimerId first = timers.Schedule(absl::Seconds(1), [] {});
  clock.RunFor(absl::Seconds(1));  // The set is empty again.
  bool later_ran = false;
  const net::TimerId later =
      timers.Schedule(absl::Seconds(1), [&] { later_ran = true; });
  EXPECT_NE(first, later);
  timers.Cancel(first);
  clock.RunFor(absl::Seconds(1));
  EXPECT_TRUE(later_ran);
}

TEST(TimerSetTest, TimerMayScheduleAnotherFromItsCallback) {
  net::SimClock clock;
  TimerSet timers(clock);
  int runs = 0;
  timers.Schedule(absl::Seconds(1), [&] {
    ++runs;
    timers.Schedule(absl::Seconds(1), [&] { ++runs; });
  });
  clock.RunFor(absl::Seconds(3));
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(timers.size(), 0u);
}

TEST(TimerSetTest, DestroyingTheSetCancelsItsTimers) {
  net::SimClock clock;
  bool ran = false;
  {
    TimerSet timers(clock);
    timers.Schedule(absl::Seconds(1), [&] { ran = true; });
  }
  clock.RunFor(absl::Seconds(2));
  EXPECT_FALSE(ran);
  EXPECT_EQ(clock.pending(), 0u);
}

}  // namespace
}  // namespace kad::dht

#include "net/sim_clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace kad::net {
namespace {

class RecordingSink : public SimClock::EventSink {
 public:
  void OnEvent(uint32_t token) override { tokens.push_back(token); }
  std::vector<uint32_t> tokens;
};

TEST(SimClockTest, RunsTimersInDueOrderThenSchedulingOrder) {
  SimClock clock;
  std::string order;
  clock.Schedule(absl::Milliseconds(20), [&] { order += 'c'; });
  clock.Schedule(absl::Milliseconds(10), [&] { order += 'a'; });
  clock.Schedule(absl::Milliseconds(10), [&] { order += 'b'; });
  clock.Schedule(absl::ZeroDuration(), [&] { order += '0'; });
  EXPECT_EQ(clock.RunUntilIdle(), 4u);
  EXPECT_EQ(order, "0abc");
  EXPECT_EQ(clock.Now(), clock.start() + absl::Milliseconds(20));
}

TEST(SimClockTest, NeverRunsACallbackInsideSchedule) {
  SimClock clock;
  bool ran = false;
  clock.Schedule(absl::ZeroDuration(), [&] { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(clock.RunNext());
  EXPECT_TRUE(ran);
  EXPECT_FALSE(clock.RunNext());
}

TEST(SimClockTest, NegativeDelayRunsNowWithoutMovingTimeBack) {
  SimClock clock;
  clock.RunUntil(clock.start() + absl::Seconds(1));
  absl::Time ran_at;
  clock.Schedule(absl::Seconds(-5), [&] { ran_at = clock.Now(); });
  clock.RunNext();
  EXPECT_EQ(ran_at, clock.start() + absl::Seconds(1));
}

TEST(SimClockTest, CancelledTimerNeverRunsAndIsNotPending) {
  SimClock clock;
  int ran = 0;
  TimerId keep = clock.Schedule(absl::Seconds(1), [&] { ran += 1; });
  TimerId drop = clock.Schedule(absl::Seconds(1), [&] { ran += 10; });
  EXPECT_NE(keep, 0u);
  EXPECT_NE(keep, drop);
  clock.Cancel(drop);
  clock.Cancel(drop);  // Twice is a no-op.
  EXPECT_EQ(clock.pending(), 1u);
  clock.RunUntilIdle();
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(clock.events_run(), 1u);
}

TEST(SimClockTest, CancelDestroysTheCallbackAtOnce) {
  SimClock clock;
  auto token = std::make_shared<int>(0);
  TimerId id = clock.Schedule(absl::Seconds(1), [token] {});
  EXPECT_EQ(token.use_count(), 2);
  clock.Cancel(id);
  EXPECT_EQ(token.use_count(), 1);
}

TEST(SimClockTest, StaleIdDoesNotCancelTheTimerReusingItsSlot) {
  SimClock clock;
  TimerId first = clock.Schedule(absl::Seconds(1), [] {});
  clock.RunUntilIdle();
  bool ran = false;
  TimerId second = clock.Schedule(absl::Seconds(1), [&] { ran = true; });
  EXPECT_NE(first, second);
  clock.Cancel(first);  // Already ran: no-op, even though the slot is reused.
  clock.RunUntilIdle();
  EXPECT_TRUE(ran);
}

TEST(SimClockTest, TimerMayCancelItselfAndScheduleMore) {
  SimClock clock;
  TimerId self = 0;
  int ran = 0;
  self = clock.Schedule(absl::Seconds(1), [&] {
    clock.Cancel(self);
    clock.Schedule(absl::Seconds(1), [&] { ++ran; });
  });
  clock.RunUntilIdle();
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(clock.Now(), clock.start() + absl::Seconds(2));
}

TEST(SimClockTest, RunUntilStopsAtTheGivenTime) {
  SimClock clock;
  int ran = 0;
  clock.Schedule(absl::Seconds(1), [&] { ++ran; });
  clock.Schedule(absl::Seconds(3), [&] { ++ran; });
  EXPECT_EQ(clock.RunUntil(clock.start() + absl::Seconds(2)), 1u);
  EXPECT_EQ(clock.Now(), clock.start() + absl::Seconds(2));
  EXPECT_EQ(clock.pending(), 1u);
}

TEST(SimClockTest, RunForMovesTimeOnByTheDuration) {
  SimClock clock;
  int ran = 0;
  clock.Schedule(absl::Seconds(1), [&] { ++ran; });
  clock.Schedule(absl::Seconds(2), [&] { ++ran; });
  EXPECT_EQ(clock.RunFor(absl::Milliseconds(1500)), 1u);
  EXPECT_EQ(clock.Now(), clock.start() + absl::Milliseconds(1500));
  EXPECT_EQ(clock.RunFor(absl::Milliseconds(500)), 1u);  // Due at the end.
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(clock.Now(), clock.start() + absl::Seconds(2));
}

TEST(SimClockTest, RunUntilIdleRespectsItsLimit) {
  SimClock clock;
  clock.Schedule(absl::Seconds(1), [] {});
  clock.Schedule(absl::Hours(2), [] {});
  EXPECT_EQ(clock.RunUntilIdle(absl::Hours(1)), 1u);
  EXPECT_EQ(clock.Now(), clock.start() + absl::Seconds(1));
  EXPECT_EQ(clock.pending(), 1u);
}

TEST(SimClockTest, RunWhileStopsWhenThePredicateFails) {
  SimClock clock;
  int ran = 0;
  for (int i = 1; i <= 10; ++i) {
    clock.Schedule(absl::Seconds(i), [&] { ++ran; });
  }
  EXPECT_TRUE(clock.RunWhile([&] { return ran < 4; },
                             clock.start() + absl::Minutes(1)));
  EXPECT_EQ(ran, 4);
  EXPECT_EQ(clock.Now(), clock.start() + absl::Seconds(4));
}

TEST(SimClockTest, RunWhileGivesUpAtTheDeadline) {
  SimClock clock;
  int ran = 0;
  for (int i = 1; i <= 10; ++i) {
    clock.Schedule(absl::Seconds(i), [&] { ++ran; });
  }
  const absl::Time deadline = clock.start() + absl::Milliseconds(5500);
  EXPECT_FALSE(clock.RunWhile([] { return true; }, deadline));
  EXPECT_EQ(ran, 5);
  EXPECT_EQ(clock.Now(), deadline);
}

TEST(SimClockTest, SinkEventsInterleaveWithTimersInOrder) {
  SimClock clock;
  RecordingSink sink;
  SimClock::SinkId id = clock.AddSink(&sink);
  std::vector<uint32_t> order;
  clock.ScheduleEvent(absl::Seconds(2), id, 7);
  clock.Schedule(absl::Seconds(1),
                 [&] { order.push_back(sink.tokens.size()); });
  clock.ScheduleEvent(absl::Seconds(1), id, 5);
  clock.RunUntilIdle();
  EXPECT_EQ(sink.tokens, (std::vector<uint32_t>{5, 7}));
  EXPECT_EQ(order, (std::vector<uint32_t>{0}));  // Timer ran before token 5.
}

TEST(SimClockTest, EventsOfARemovedSinkAreDiscarded) {
  SimClock clock;
  RecordingSink sink;
  SimClock::SinkId id = clock.AddSink(&sink);
  clock.ScheduleEvent(absl::Seconds(1), id, 1);
  clock.RemoveSink(id);
  clock.RunUntilIdle();
  EXPECT_TRUE(sink.tokens.empty());
}

// Schedules and cancels a seeded random mix and records what ran, when.
std::vector<std::pair<int64_t, int>> RandomWorkload(uint64_t seed) {
  SimClock clock;
  std::mt19937_64 gen(seed);
  std::vector<std::pair<int64_t, int>> trace;
  std::vector<TimerId> ids;
  for (int i = 0; i < 20'000; ++i) {
    const auto delay = absl::Milliseconds(gen() % 1000);
    ids.push_back(clock.Schedule(delay, [&trace, &clock, i] {
      trace.emplace_back(absl::ToUnixNanos(clock.Now()), i);
    }));
    if (gen() % 3 == 0) clock.Cancel(ids[gen() % ids.size()]);
  }
  clock.RunUntilIdle();
  EXPECT_EQ(clock.pending(), 0u);
  return trace;
}

TEST(SimClockTest, SameWorkloadGivesTheSameTrace) {
  const auto first = RandomWorkload(42);
  EXPECT_GT(first.size(), 10'000u);
  EXPECT_TRUE(std::is_sorted(
      first.begin(), first.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; }));
  EXPECT_EQ(first, RandomWorkload(42));
  EXPECT_NE(first, RandomWorkload(43));
}

TEST(SimClockTest, ManyCancelledTimersAreCompactedAway) {
  SimClock clock;
  for (int i = 0; i < 100'000; ++i) {
    clock.Cancel(clock.Schedule(absl::Hours(1), [] {}));
  }
  int ran = 0;
  clock.Schedule(absl::Hours(1), [&] { ++ran; });
  EXPECT_EQ(clock.pending(), 1u);
  EXPECT_LT(clock.queue_size(), 10'000u);
  EXPECT_EQ(clock.RunUntilIdle(absl::Hours(2)), 1u);
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace kad::net

#include "net/sim_clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
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

// Drives a clock and a plain model of its contract side by side: events
// run in (due time, scheduling order), cancelled timers never run, and the
// Run* methods stop where they say. Events schedule more events (some at
// zero delay, some far out), cancel others, and the driver stops short of
// pending events and schedules before them, the moves a queue keyed on
// time must get right.
class ModelCheck {
 public:
  explicit ModelCheck(uint64_t seed)
      : gen_(seed), sink_id_(clock_.AddSink(&sink_)) {
    sink_.on_event = [this](uint32_t token) { Ran(static_cast<int>(token)); };
  }

  void Run() {
    for (int round = 0; round < 400; ++round) {
      for (int i = gen_() % 40; i > 0; --i) ScheduleRandom();
      switch (gen_() % 4) {
        case 0:
          clock_.RunUntil(clock_.Now() + RandomDelay());
          break;
        case 1:
          clock_.RunUntilIdle(RandomDelay());
          break;
        case 2:
          for (int i = gen_() % 50; i > 0 && clock_.RunNext();) --i;
          break;
        default: {
          int budget = static_cast<int>(gen_() % 200);
          clock_.RunWhile([&] { return budget-- > 0; },
                          clock_.Now() + RandomDelay());
        }
      }
      CheckAgainstModel();
    }
    clock_.RunUntilIdle(absl::Hours(24 * 365));
    CheckAgainstModel();
    EXPECT_EQ(clock_.pending(), 0u);
    EXPECT_EQ(ran_.size() + cancelled_, scheduled_.size());
  }

 private:
  struct Scheduled {
    int64_t due;
    int index;  // Scheduling order.
  };
  struct Sink : SimClock::EventSink {
    void OnEvent(uint32_t token) override { on_event(token); }
    std::function<void(uint32_t)> on_event;
  };

  int64_t NowNanos() const { return absl::ToUnixNanos(clock_.Now()); }
  absl::Duration RandomDelay() {
    switch (gen_() % 6) {
      case 0:
        return absl::ZeroDuration();
      case 1:
        return absl::Nanoseconds(gen_() % 4);  // Near-ties.
      case 2:
        return absl::Hours(1) + absl::Milliseconds(gen_() % 3);
      default:
        return absl::Milliseconds(gen_() % 2000);
    }
  }
  void ScheduleRandom() {
    const int index = static_cast<int>(scheduled_.size());
    const absl::Duration delay = RandomDelay();
    scheduled_.push_back({NowNanos() + absl::ToInt64Nanoseconds(delay), index});
    if (gen_() % 4 == 0) {
      clock_.ScheduleEvent(delay, sink_id_, static_cast<uint32_t>(index));
      ids_.push_back(0);
    } else {
      ids_.push_back(clock_.Schedule(delay, [this, index] { Ran(index); }));
    }
    done_.push_back(false);
    cancelled_flags_.push_back(false);
    if (gen_() % 3 == 0) {
      const size_t victim = gen_() % ids_.size();
      if (ids_[victim] != 0 && !done_[victim]) {
        clock_.Cancel(ids_[victim]);
        done_[victim] = true;
        cancelled_flags_[victim] = true;
        ++cancelled_;
      }
    }
  }
  void Ran(int index) {
    ASSERT_FALSE(done_[index])
        << "event " << index << " ran twice or cancelled";
    done_[index] = true;
    EXPECT_EQ(NowNanos(), scheduled_[index].due);
    ran_.push_back(index);
    if (gen_() % 2 == 0) ScheduleRandom();
  }
  // What ran must be exactly the not-cancelled events up to now, in order.
  void CheckAgainstModel() {
    std::vector<Scheduled> expected;
    for (size_t i = 0; i < scheduled_.size(); ++i) {
      if (scheduled_[i].due <= NowNanos() && !cancelled_flags_[i]) {
        expected.push_back(scheduled_[i]);
      }
    }
    std::sort(expected.begin(), expected.end(),
              [](const auto& a, const auto& b) {
                return a.due != b.due ? a.due < b.due : a.index < b.index;
              });
    // RunWhile and RunNext may stop between events due at the same time.
    ASSERT_LE(ran_.size(), expected.size());
    for (size_t i = 0; i < ran_.size(); ++i) {
      ASSERT_EQ(ran_[i], expected[i].index) << "position " << i;
    }
    for (size_t i = ran_.size(); i < expected.size(); ++i) {
      ASSERT_EQ(expected[i].due, NowNanos())
          << "an event due earlier never ran";
    }
  }

  std::mt19937_64 gen_;
  SimClock clock_;
  Sink sink_;
  SimClock::SinkId sink_id_;
  std::vector<Scheduled> scheduled_;
  std::vector<TimerId> ids_;  // 0 for sink events.
  std::vector<bool> done_;    // Ran or cancelled.
  std::vector<bool> cancelled_flags_;
  std::vector<int> ran_;
  size_t cancelled_ = 0;
};

TEST(SimClockTest, RunsEventsInTheOrderOfAPlainModel) {
  for (uint64_t seed : {1, 2, 3}) {
    ModelCheck(seed).Run();
  }
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

#include "net/uv_loop.h"

#include <csignal>
#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/uv_clock.h"

namespace kad::net {
namespace {

using ::testing::ElementsAre;

constexpr absl::Duration kDeadline = absl::Seconds(5);

// Sets a flag when destroyed, to observe when a callback is released.
class DestroyFlag {
 public:
  explicit DestroyFlag(bool* destroyed) : destroyed_(destroyed) {}
  DestroyFlag(DestroyFlag&& other) noexcept : destroyed_(other.destroyed_) {
    other.destroyed_ = nullptr;
  }
  DestroyFlag& operator=(DestroyFlag&&) = delete;
  ~DestroyFlag() {
    if (destroyed_ != nullptr) *destroyed_ = true;
  }

 private:
  bool* destroyed_;
};

class UvLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<UvLoop>> loop = UvLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    clock_ = std::make_unique<UvClock>(loop_->raw());
  }
  void TearDown() override {
    clock_.reset();
    loop_.reset();
  }

  std::unique_ptr<UvLoop> loop_;
  std::unique_ptr<UvClock> clock_;
};

TEST_F(UvLoopTest, TimersFireInDelayOrder) {
  std::vector<int> order;
  clock_->Schedule(absl::Milliseconds(30), [&] { order.push_back(30); });
  clock_->Schedule(absl::Milliseconds(10), [&] { order.push_back(10); });
  clock_->Schedule(absl::Milliseconds(20), [&] { order.push_back(20); });
  clock_->Schedule(absl::Milliseconds(20), [&] { order.push_back(21); });
  EXPECT_EQ(clock_->pending(), 4u);
  ASSERT_TRUE(loop_->RunUntil([&] { return order.size() == 4; }, kDeadline));
  EXPECT_THAT(order, ElementsAre(10, 20, 21, 30));
  EXPECT_EQ(clock_->pending(), 0u);
}

TEST_F(UvLoopTest, TimerNeverFiresEarly) {
  for (absl::Duration delay : {absl::Microseconds(300), absl::Milliseconds(1),
                               absl::Milliseconds(7)}) {
    absl::Time start = absl::Now();
    absl::Time fired = absl::InfinitePast();
    clock_->Schedule(delay, [&] { fired = absl::Now(); });
    ASSERT_TRUE(loop_->RunUntil([&] { return fired != absl::InfinitePast(); },
                                kDeadline));
    EXPECT_GE(fired - start, delay);
  }
}

TEST_F(UvLoopTest, CancelPreventsCallAndDestroysCallbackAtOnce) {
  bool called = false;
  bool destroyed = false;
  TimerId id = clock_->Schedule(
      absl::Milliseconds(1),
      [&called, flag = DestroyFlag(&destroyed)] { called = true; });
  bool later = false;
  clock_->Schedule(absl::Milliseconds(5), [&] { later = true; });
  clock_->Cancel(id);
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(clock_->pending(), 1u);
  ASSERT_TRUE(loop_->RunUntil([&] { return later; }, kDeadline));
  EXPECT_FALSE(called);
}

TEST_F(UvLoopTest, CancelAfterRunOrTwiceIsNoOp) {
  int calls = 0;
  TimerId id = clock_->Schedule(absl::ZeroDuration(), [&] { ++calls; });
  ASSERT_TRUE(loop_->RunUntil([&] { return calls == 1; }, kDeadline));
  clock_->Cancel(id);
  clock_->Cancel(id);
  clock_->Cancel(id + 1000);
  EXPECT_EQ(calls, 1);
}

TEST_F(UvLoopTest, ZeroDelayTimerDoesNotRunInsideSchedule) {
  bool ran = false;
  TimerId id = clock_->Schedule(absl::ZeroDuration(), [&] { ran = true; });
  EXPECT_NE(id, 0u);
  EXPECT_FALSE(ran);
  clock_->Schedule(-absl::Seconds(1), [] {});
  ASSERT_TRUE(loop_->RunUntil([&] { return ran; }, kDeadline));
}

TEST_F(UvLoopTest, TimerMayScheduleAndCancelOthers) {
  std::vector<int> order;
  TimerId doomed =
      clock_->Schedule(absl::Milliseconds(20), [&] { order.push_back(-1); });
  clock_->Schedule(absl::Milliseconds(1), [&] {
    order.push_back(1);
    clock_->Cancel(doomed);
    clock_->Schedule(absl::ZeroDuration(), [&] { order.push_back(2); });
  });
  clock_->Schedule(absl::Milliseconds(40), [&] { order.push_back(3); });
  ASSERT_TRUE(loop_->RunUntil([&] { return order.size() >= 3; }, kDeadline));
  EXPECT_THAT(order, ElementsAre(1, 2, 3));
}

TEST_F(UvLoopTest, DestroyingClockDropsPendingTimers) {
  bool called = false;
  bool destroyed = false;
  clock_->Schedule(
      absl::ZeroDuration(),
      [&called, flag = DestroyFlag(&destroyed)] { called = true; });
  clock_.reset();
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(loop_->RunUntil([&] { return called; }, absl::Milliseconds(20)));
}

TEST_F(UvLoopTest, NowIsWallClock) {
  absl::Time before = absl::Now();
  absl::Time now = clock_->Now();
  EXPECT_GE(now, before);
  EXPECT_LE(now, absl::Now());
}

TEST_F(UvLoopTest, RunUntilReturnsFalseAtDeadline) {
  absl::Time start = absl::Now();
  EXPECT_FALSE(loop_->RunUntil([] { return false; }, absl::Milliseconds(50)));
  absl::Duration elapsed = absl::Now() - start;
  EXPECT_GE(elapsed, absl::Milliseconds(50));
  EXPECT_LT(elapsed, absl::Seconds(3));
}

TEST_F(UvLoopTest, RunUntilReturnsAtOnceWhenAlreadyDone) {
  absl::Time start = absl::Now();
  EXPECT_TRUE(loop_->RunUntil([] { return true; }, absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(UvLoopTest, StopFromTimerEndsRun) {
  bool late = false;
  clock_->Schedule(absl::Milliseconds(5), [&] { loop_->Stop(); });
  clock_->Schedule(absl::Seconds(30), [&] { late = true; });
  absl::Time start = absl::Now();
  loop_->Run();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_FALSE(late);
  EXPECT_EQ(loop_->stop_signal(), 0);
  EXPECT_EQ(clock_->pending(), 1u);
}

TEST_F(UvLoopTest, StopFromTimerEndsRunUntil) {
  clock_->Schedule(absl::Milliseconds(5), [&] { loop_->Stop(); });
  clock_->Schedule(absl::Seconds(30), [] {});
  absl::Time start = absl::Now();
  EXPECT_FALSE(loop_->RunUntil([] { return false; }, absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(UvLoopTest, RunReturnsWhenNothingIsLeft) {
  bool ran = false;
  clock_->Schedule(absl::Milliseconds(1), [&] { ran = true; });
  loop_->Run();
  EXPECT_TRUE(ran);
}

TEST_F(UvLoopTest, StopWhenNotRunningIsIgnored) {
  loop_->Stop();
  bool ran = false;
  clock_->Schedule(absl::Milliseconds(1), [&] { ran = true; });
  loop_->Run();
  EXPECT_TRUE(ran);
}

TEST_F(UvLoopTest, SignalStopsRunAndIsReported) {
  for (int signum : {SIGTERM, SIGINT}) {
    clock_->Schedule(absl::Milliseconds(1), [signum] { std::raise(signum); });
    TimerId keep_alive = clock_->Schedule(absl::Seconds(30), [] {});
    loop_->Run(StopOnSignals::kYes);
    EXPECT_EQ(loop_->stop_signal(), signum);
    clock_->Cancel(keep_alive);
  }
}

TEST(UvLoopLifetimeTest, DestructorClosesHandlesLeftOpen) {
  auto timer = std::make_unique<uv_timer_t>();  // Outlives the loop.
  {
    absl::StatusOr<std::unique_ptr<UvLoop>> loop = UvLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    uv_timer_init((*loop)->raw(), timer.get());
    uv_timer_start(
        timer.get(), [](uv_timer_t*) {}, 60'000, 0);
  }
  EXPECT_TRUE(uv_is_closing(reinterpret_cast<uv_handle_t*>(timer.get())));
}

}  // namespace
}  // namespace kad::net

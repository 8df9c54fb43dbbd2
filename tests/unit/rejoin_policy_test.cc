#include "dht/rejoin_policy.h"

#include <vector>

#include "dht/split_mix64.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

using ::testing::ElementsAre;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

RejoinOptions NoJitter() {
  RejoinOptions options;
  options.first_delay = absl::Seconds(5);
  options.backoff = 2.0;
  options.max_delay = absl::Minutes(5);
  options.jitter = 0.0;
  return options;
}

TEST(RejoinPolicyTest, FirstAttemptIsDueAtOnce) {
  RejoinPolicy policy;
  EXPECT_TRUE(policy.Due(kStart));
  EXPECT_EQ(policy.consecutive_failures(), 0);
}

TEST(RejoinPolicyTest, AfterAFailureTheNextAttemptWaitsTheFirstDelay) {
  SplitMix64 gen(1);
  RejoinPolicy policy(NoJitter());
  EXPECT_EQ(policy.OnFailure(kStart, gen), absl::Seconds(5));
  EXPECT_EQ(policy.next_attempt(), kStart + absl::Seconds(5));
  EXPECT_FALSE(policy.Due(kStart + absl::Seconds(5) - absl::Nanoseconds(1)));
  EXPECT_TRUE(policy.Due(kStart + absl::Seconds(5)));
  EXPECT_EQ(policy.consecutive_failures(), 1);
}

TEST(RejoinPolicyTest, DelayDoublesWithEachFailureUpToTheCap) {
  SplitMix64 gen(1);
  RejoinPolicy policy(NoJitter());
  std::vector<int64_t> seconds;
  absl::Time now = kStart;
  for (int i = 0; i < 9; ++i) {
    const absl::Duration delay = policy.OnFailure(now, gen);
    seconds.push_back(absl::ToInt64Seconds(delay));
    now += delay;
  }
  EXPECT_THAT(seconds, ElementsAre(5, 10, 20, 40, 80, 160, 300, 300, 300));
}

TEST(RejoinPolicyTest, JitterShortensEachDelayByAtMostItsShare) {
  SplitMix64 gen(7);
  RejoinOptions options = NoJitter();
  options.jitter = 0.5;
  options.backoff = 1.0;  // Every delay is 5 s before jitter.
  RejoinPolicy policy(options);
  absl::Duration shortest = absl::InfiniteDuration();
  absl::Duration longest = absl::ZeroDuration();
  for (int i = 0; i < 1000; ++i) {
    const absl::Duration delay = policy.OnFailure(kStart, gen);
    ASSERT_GE(delay, absl::Milliseconds(2500));
    ASSERT_LE(delay, absl::Seconds(5));
    shortest = std::min(shortest, delay);
    longest = std::max(longest, delay);
  }
  // Spread over the whole range, not stuck at one end.
  EXPECT_LT(shortest, absl::Milliseconds(2700));
  EXPECT_GT(longest, absl::Milliseconds(4800));
}

TEST(RejoinPolicyTest, TheSameSeedDrawsTheSameDelays) {
  SplitMix64 gen_a(42), gen_b(42);
  RejoinPolicy a, b;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(a.OnFailure(kStart, gen_a), b.OnFailure(kStart, gen_b)) << i;
  }
}

TEST(RejoinPolicyTest, JoiningStartsTheBackoffOver) {
  SplitMix64 gen(1);
  RejoinPolicy policy(NoJitter());
  for (int i = 0; i < 4; ++i) policy.OnFailure(kStart, gen);
  EXPECT_FALSE(policy.Due(kStart));
  policy.OnSuccess();
  EXPECT_TRUE(policy.Due(kStart));
  EXPECT_EQ(policy.consecutive_failures(), 0);
  EXPECT_EQ(policy.OnFailure(kStart, gen), absl::Seconds(5));
}

TEST(RejoinPolicyTest, DefaultsBackOffFromSecondsToMinutes) {
  const RejoinOptions defaults;
  EXPECT_EQ(defaults.first_delay, absl::Seconds(5));
  EXPECT_EQ(defaults.max_delay, absl::Minutes(5));
  SplitMix64 gen(3);
  RejoinPolicy policy;
  absl::Duration delay;
  for (int i = 0; i < 20; ++i) delay = policy.OnFailure(kStart, gen);
  EXPECT_GE(delay, defaults.max_delay * (1 - defaults.jitter));
  EXPECT_LE(delay, defaults.max_delay);
}

}  // namespace
}  // namespace kad::dht

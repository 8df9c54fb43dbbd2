#include "dht/rtt_estimator.h"

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

const RttBounds kBounds{absl::Seconds(1), absl::Milliseconds(50),
                        absl::Seconds(2)};

TEST(RttEstimatorTest, UsesInitialTimeoutBeforeAnySample) {
  RttEstimator rtt;
  EXPECT_EQ(rtt.Timeout(kBounds), absl::Seconds(1));
  EXPECT_FALSE(rtt.has_sample());
}

TEST(RttEstimatorTest, AdaptsToMeasuredRoundTrips) {
  RttEstimator rtt;
  for (int i = 0; i < 20; ++i) rtt.AddSample(absl::Milliseconds(100));
  EXPECT_NEAR(absl::ToDoubleMilliseconds(rtt.smoothed()), 100, 1);
  // Steady samples shrink the variance: timeout approaches SRTT.
  EXPECT_LT(rtt.Timeout(kBounds), absl::Milliseconds(150));
  EXPECT_GE(rtt.Timeout(kBounds), absl::Milliseconds(100));
}

TEST(RttEstimatorTest, ClampsToBounds) {
  RttEstimator fast;
  fast.AddSample(absl::Microseconds(100));
  EXPECT_EQ(fast.Timeout(kBounds), absl::Milliseconds(50));
  RttEstimator slow;
  slow.AddSample(absl::Seconds(5));
  EXPECT_EQ(slow.Timeout(kBounds), absl::Seconds(2));
}

TEST(RttEstimatorTest, TimeoutBacksOffUntilNextSample) {
  RttEstimator rtt;
  for (int i = 0; i < 20; ++i) rtt.AddSample(absl::Milliseconds(100));
  absl::Duration base = rtt.Timeout(kBounds);
  rtt.OnTimeout();
  EXPECT_EQ(rtt.Timeout(kBounds), std::min(2 * base, kBounds.max));
  rtt.AddSample(absl::Milliseconds(100));
  EXPECT_LE(rtt.Timeout(kBounds), base);
}

}  // namespace
}  // namespace kad::dht

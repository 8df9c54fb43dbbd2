#include "dht/latency_histogram.h"

#include "dht/latency_window.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

TEST(LatencyHistogramTest, EmptyHistogramCountsNothing) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.Buckets(), LatencyBuckets{});
}

TEST(LatencyHistogramTest, ASampleOnABoundBelongsToThatBucket) {
  LatencyHistogram histogram;
  histogram.Add(absl::Milliseconds(1));     // le 0.001
  histogram.Add(absl::Microseconds(1001));  // le 0.0025
  histogram.Add(absl::Milliseconds(10));    // le 0.01
  const LatencyBuckets buckets = histogram.Buckets();
  EXPECT_EQ(buckets.counts[0], 1u);
  EXPECT_EQ(buckets.counts[1], 1u);
  EXPECT_EQ(buckets.counts[2], 0u);
  EXPECT_EQ(buckets.counts[3], 1u);
  EXPECT_EQ(buckets.count, 3u);
  EXPECT_EQ(buckets.sum, absl::Microseconds(12001));
}

TEST(LatencyHistogramTest, SlowerThanTheLastBoundGoesToInfinity) {
  LatencyHistogram histogram;
  histogram.Add(absl::Seconds(11));
  EXPECT_EQ(histogram.Buckets().counts.back(), 1u);
  EXPECT_EQ(histogram.Buckets().count, 1u);
}

TEST(LatencyHistogramTest, BoundsAscend) {
  for (size_t i = 1; i < kLatencyBucketBounds.size(); ++i) {
    EXPECT_LT(kLatencyBucketBounds[i - 1], kLatencyBucketBounds[i]);
  }
}

TEST(LatencyHistogramTest, WindowCountsSamplesItHasForgotten) {
  LatencyWindow window(2);
  for (int i = 0; i < 5; ++i) window.Add(absl::Milliseconds(20));
  EXPECT_EQ(window.size(), 2u);
  EXPECT_EQ(window.histogram().Buckets().count, 5u);
  EXPECT_EQ(window.histogram().Buckets().counts[4], 5u);  // le 0.025
}

}  // namespace
}  // namespace kad::dht

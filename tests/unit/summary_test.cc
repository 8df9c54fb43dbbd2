#include "bench/summary.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace kad::bench {
namespace {

TEST(SummaryTest, EmptyIsAllZero) {
  EXPECT_EQ(Summarize({}), Summary{});
}

TEST(SummaryTest, OneSampleIsEveryStatistic) {
  Summary s = Summarize({7.5});
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.mean, 7.5);
  EXPECT_EQ(s.p50, 7.5);
  EXPECT_EQ(s.p99, 7.5);
  EXPECT_EQ(s.max, 7.5);
}

TEST(SummaryTest, PercentilesAreNearestRankSamples) {
  // 1..100 in scrambled order: pP is exactly P.
  std::vector<double> samples(100);
  std::iota(samples.begin(), samples.end(), 1.0);
  std::swap(samples[3], samples[90]);
  std::swap(samples[0], samples[99]);
  Summary s = Summarize(samples);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_EQ(s.p50, 50);
  EXPECT_EQ(s.p90, 90);
  EXPECT_EQ(s.p99, 99);
  EXPECT_EQ(s.max, 100);
}

TEST(SummaryTest, RanksRoundUpAndNeverInterpolate) {
  // n = 10: p50 is rank 5, p90 rank 9, p99 rank ceil(9.9) = 10.
  Summary s = Summarize({10, 1, 9, 2, 8, 3, 7, 4, 6, 5});
  EXPECT_EQ(s.p50, 5);
  EXPECT_EQ(s.p90, 9);
  EXPECT_EQ(s.p99, 10);
  // n = 3: p50 is rank ceil(1.5) = 2.
  EXPECT_EQ(Summarize({3, 1, 2}).p50, 2);
  EXPECT_EQ(Summarize({1, 4}).p50, 1);
}

TEST(SummaryTest, NearestRankOfSortedSamples) {
  const std::vector<double> sorted = {1, 2, 3, 4};
  EXPECT_EQ(NearestRank(sorted, 25), 1);
  EXPECT_EQ(NearestRank(sorted, 26), 2);
  EXPECT_EQ(NearestRank(sorted, 100), 4);
  EXPECT_EQ(NearestRank({}, 50), 0);
}

}  // namespace
}  // namespace kad::bench

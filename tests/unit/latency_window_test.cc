#include "dht/latency_window.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

absl::Duration Ms(int64_t n) { return absl::Milliseconds(n); }

TEST(LatencyWindowTest, EmptyWindowReportsZeros) {
  LatencyWindow window;
  EXPECT_EQ(window.size(), 0u);
  EXPECT_EQ(window.Summary(), LatencySummary{});
}

TEST(LatencyWindowTest, OneSampleIsEveryPercentile) {
  LatencyWindow window;
  window.Add(Ms(7));
  EXPECT_EQ(window.Summary(), (LatencySummary{Ms(7), Ms(7), Ms(7), Ms(7)}));
}

TEST(LatencyWindowTest, PercentilesUseTheNearestRank) {
  LatencyWindow window;
  // 1..100 ms in a scrambled order: the p-th percentile is p ms.
  std::vector<int64_t> values;
  for (int64_t i = 1; i <= 100; ++i) values.push_back(i);
  std::shuffle(values.begin(), values.end(), std::mt19937_64(5));
  for (int64_t v : values) window.Add(Ms(v));
  EXPECT_EQ(window.Summary(),
            (LatencySummary{Ms(50), Ms(90), Ms(99), Ms(100)}));
}

TEST(LatencyWindowTest, SmallSamplesRoundTheRankUp) {
  LatencyWindow window;
  for (int64_t v : {40, 10, 30, 20}) window.Add(Ms(v));
  // n = 4: p50 is the 2nd smallest, p90 and p99 the 4th.
  EXPECT_EQ(window.Summary(), (LatencySummary{Ms(20), Ms(40), Ms(40), Ms(40)}));
}

TEST(LatencyWindowTest, KeepsOnlyTheMostRecentSamples) {
  LatencyWindow window(/*capacity=*/4);
  for (int64_t v : {1000, 900, 800, 700}) window.Add(Ms(v));
  for (int64_t v : {1, 2, 3}) window.Add(Ms(v));
  EXPECT_EQ(window.size(), 4u);
  // Window: 700, 1, 2, 3 — the three oldest slow samples are gone.
  EXPECT_EQ(window.Summary(),
            (LatencySummary{Ms(2), Ms(700), Ms(700), Ms(700)}));
  window.Add(Ms(4));
  EXPECT_EQ(window.Summary().max, Ms(4));
}

TEST(LatencyWindowTest, DefaultCapacityIsOneThousandTwentyFour) {
  LatencyWindow window;
  for (int i = 0; i < 3000; ++i) window.Add(Ms(i));
  EXPECT_EQ(window.size(), 1024u);
  EXPECT_EQ(window.Summary().max, Ms(2999));
  // The oldest kept sample is 3000 - 1024 = 1976 ms; p50 is the 512th.
  EXPECT_EQ(window.Summary().p50, Ms(1976 + 511));
}

TEST(LatencyWindowTest, GrowsPastItsFirstAllocationToAnOddCapacity) {
  LatencyWindow window(/*capacity=*/13);
  for (int64_t v = 1; v <= 20; ++v) window.Add(Ms(v));
  EXPECT_EQ(window.size(), 13u);
  // Window: 8..20 ms; p50 is the 7th smallest, p90 the 12th.
  EXPECT_EQ(window.Summary(), (LatencySummary{Ms(14), Ms(19), Ms(20), Ms(20)}));
}

}  // namespace
}  // namespace kad::dht

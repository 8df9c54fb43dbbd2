// The flooding baseline on the simulator: a Gnutella-style flood finds
// holders along shortest paths, respects its hop limit, forwards a query
// at most once per peer, costs messages linear in n, and reproduces.
#include "bench/flooding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "tests/testing/sim_builders.h"

namespace kad::testing {
namespace {

using ::kad::bench::FloodingOptions;
using ::kad::bench::FloodingOverlay;
using ::kad::bench::LookupSample;

constexpr absl::Duration kRtt = absl::Milliseconds(80);

FloodingOptions ConstantRtt(uint64_t seed = 1, double loss = 0.0) {
  FloodingOptions options;
  options.seed = seed;
  options.network = ::kad::testing::ConstantRtt(kRtt, loss);
  return options;
}

// Returns every peer's distance in links from `origin` (-1: unreachable).
std::vector<int> Distances(const FloodingOverlay& overlay, size_t origin) {
  std::vector<int> distance(overlay.size(), -1);
  std::vector<size_t> queue = {origin};
  distance[origin] = 0;
  for (size_t next = 0; next < queue.size(); ++next) {
    for (const uint32_t neighbour : overlay.neighbours(queue[next])) {
      if (distance[neighbour] >= 0) continue;
      distance[neighbour] = distance[queue[next]] + 1;
      queue.push_back(neighbour);
    }
  }
  return distance;
}

size_t LinkCount(const FloodingOverlay& overlay) {
  size_t ends = 0;
  for (size_t i = 0; i < overlay.size(); ++i) {
    ends += overlay.neighbours(i).size();
  }
  return ends / 2;
}

TEST(FloodingTest, GraphIsSymmetricWithoutSelfOrDuplicateLinks) {
  FloodingOverlay overlay(ConstantRtt());
  overlay.Build(1000);
  size_t ends = 0;
  for (size_t i = 0; i < overlay.size(); ++i) {
    const auto mine = overlay.neighbours(i);
    ends += mine.size();
    EXPECT_GE(mine.size(), 4u) << "peer " << i;  // degree / 2 opened.
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
    EXPECT_EQ(std::adjacent_find(mine.begin(), mine.end()), mine.end());
    for (const uint32_t other : mine) {
      EXPECT_NE(other, i);
      const auto theirs = overlay.neighbours(other);
      EXPECT_TRUE(std::binary_search(theirs.begin(), theirs.end(), i));
    }
  }
  const double mean_degree = static_cast<double>(ends) / overlay.size();
  EXPECT_GT(mean_degree, 7.9);
  EXPECT_LE(mean_degree, 8.0);
}

FloodingOptions Unlimited() {
  FloodingOptions options = ConstantRtt();
  options.hop_limit = FloodingOverlay::kMaxHopLimit;  // Reach everyone.
  return options;
}

TEST(FloodingTest, FindsAHolderAlongAShortestPath) {
  FloodingOverlay overlay(Unlimited());
  overlay.Build(300);
  const std::vector<int> distance = Distances(overlay, 0);
  const size_t farthest = static_cast<size_t>(
      std::max_element(distance.begin(), distance.end()) - distance.begin());
  const size_t holders[] = {farthest};

  const LookupSample sample = overlay.Search(0, holders);

  ASSERT_TRUE(sample.success);
  EXPECT_EQ(sample.hops, distance[farthest]);
  // With equal delays the first answer went out and back that path.
  EXPECT_EQ(sample.latency, sample.hops * kRtt);
  EXPECT_EQ(overlay.last_flood().answers_received, 1u);
  EXPECT_EQ(static_cast<uint64_t>(sample.messages),
            overlay.last_flood().queries + overlay.last_flood().answers);
  EXPECT_EQ(sample.bytes, overlay.last_flood().queries * 31 +
                              overlay.last_flood().answers * 10);
  EXPECT_EQ(overlay.last_flood().malformed, 0u);
}

TEST(FloodingTest, AnswersFromEveryHolderComeBack) {
  FloodingOverlay overlay(Unlimited());
  overlay.Build(300);
  const std::vector<int> distance = Distances(overlay, 5);
  const size_t holders[] = {17, 140, 299};

  const LookupSample sample = overlay.Search(5, holders);

  ASSERT_TRUE(sample.success);
  EXPECT_EQ(sample.hops,
            std::min({distance[17], distance[140], distance[299]}));
  EXPECT_EQ(overlay.last_flood().answers_received, 3u);
  EXPECT_EQ(
      overlay.last_flood().answers,
      static_cast<uint64_t>(distance[17] + distance[140] + distance[299]));
}

TEST(FloodingTest, OriginHoldingTheItemCostsNothing) {
  FloodingOverlay overlay(ConstantRtt());
  overlay.Build(100);
  const size_t holders[] = {42};
  const LookupSample sample = overlay.Search(42, holders);
  EXPECT_TRUE(sample.success);
  EXPECT_EQ(sample.hops, 0);
  EXPECT_EQ(sample.messages, 0);
  EXPECT_EQ(sample.latency, absl::ZeroDuration());
}

TEST(FloodingTest, HopLimitOneReachesOnlyNeighbours) {
  FloodingOptions options = ConstantRtt();
  options.hop_limit = 1;
  FloodingOverlay overlay(options);
  overlay.Build(500);
  const auto near = overlay.neighbours(0);
  const std::vector<int> distance = Distances(overlay, 0);
  const size_t far = static_cast<size_t>(
      std::find(distance.begin(), distance.end(), 2) - distance.begin());
  ASSERT_LT(far, overlay.size());

  const size_t far_holder[] = {far};
  const LookupSample miss = overlay.Search(0, far_holder);
  EXPECT_FALSE(miss.success);
  EXPECT_EQ(overlay.last_flood().reached, near.size());
  EXPECT_EQ(static_cast<size_t>(miss.messages), near.size());

  const size_t near_holder[] = {near[0]};
  const LookupSample hit = overlay.Search(0, near_holder);
  EXPECT_TRUE(hit.success);
  EXPECT_EQ(hit.hops, 1);
  EXPECT_EQ(static_cast<size_t>(hit.messages), near.size() + 1);
}

TEST(FloodingTest, EachPeerForwardsAQueryAtMostOnce) {
  FloodingOverlay overlay(Unlimited());
  overlay.Build(500);
  const std::vector<int> distance = Distances(overlay, 3);
  ASSERT_EQ(std::count(distance.begin(), distance.end(), -1), 0);

  const LookupSample sample = overlay.Search(3, {});

  EXPECT_FALSE(sample.success);
  const auto& flood = overlay.last_flood();
  EXPECT_EQ(flood.reached, overlay.size() - 1);
  EXPECT_EQ(flood.forwarded, overlay.size() - 1);
  // The origin sends on every link end it has; every other peer on all of
  // its link ends but the one the query came in on — once.
  EXPECT_EQ(flood.queries, 2 * LinkCount(overlay) - (overlay.size() - 1));
  EXPECT_EQ(flood.duplicates, flood.queries - flood.reached);
  EXPECT_EQ(static_cast<uint64_t>(sample.messages), flood.queries);
}

TEST(FloodingTest, DefaultHopLimitReachesAlmostEveryPeer) {
  EXPECT_EQ(FloodingOverlay::DefaultHopLimit(1000, 8), 7);  // 7^4 >= 1000
  EXPECT_EQ(FloodingOverlay::DefaultHopLimit(10'000, 8), 8);
  EXPECT_EQ(FloodingOverlay::DefaultHopLimit(1'000'000, 8), 11);
  EXPECT_EQ(FloodingOverlay::DefaultHopLimit(1000, 2),
            FloodingOverlay::kMaxHopLimit);
  FloodingOverlay overlay(FloodingOptions{});  // Internet-like delays.
  overlay.Build(5000);
  EXPECT_EQ(overlay.hop_limit(), 8);
  for (const size_t origin : {0, 1234, 4999}) {
    overlay.Search(origin, {});
    EXPECT_GE(overlay.last_flood().reached, 0.999 * (overlay.size() - 1));
  }
}

// What a run produced, compared whole between runs.
std::vector<std::vector<int64_t>> RunSearches(uint64_t seed) {
  FloodingOptions options;  // Internet-like RTTs, with some loss.
  options.seed = seed;
  options.network.loss = 0.05;
  FloodingOverlay overlay(options);
  overlay.Build(1000);
  std::mt19937_64 pick(seed);
  std::vector<std::vector<int64_t>> samples;
  for (int i = 0; i < 10; ++i) {
    const size_t origin = pick() % overlay.size();
    const size_t holders[] = {pick() % overlay.size(), pick() % overlay.size()};
    const LookupSample s = overlay.Search(origin, holders);
    samples.push_back({s.success, s.hops, s.messages,
                       static_cast<int64_t>(s.bytes),
                       absl::ToInt64Nanoseconds(s.latency)});
  }
  return samples;
}

TEST(FloodingTest, SameSeedGivesIdenticalSamples) {
  EXPECT_EQ(RunSearches(7), RunSearches(7));
  EXPECT_NE(RunSearches(7), RunSearches(8));
}

// A hop limit past every graph's diameter, so each flood covers its graph
// (the default limit may stop a little short, which only saves messages).
double MeanMessages(size_t n) {
  FloodingOptions options = ConstantRtt(/*seed=*/n);
  options.hop_limit = 8;
  FloodingOverlay overlay(options);
  overlay.Build(n);
  double total = 0;
  for (size_t i = 0; i < 5; ++i) {
    const size_t holders[] = {(i * 7919 + n / 2) % n};
    total += overlay.Search(i * 101 % n, holders).messages;
  }
  return total / 5;
}

TEST(FloodingTest, MessagesGrowLinearlyWithN) {
  const double m500 = MeanMessages(500);
  const double m1000 = MeanMessages(1000);
  const double m2000 = MeanMessages(2000);
  // A flood crosses nearly every link end once: about n * (degree - 1).
  for (const auto& [n, m] :
       {std::pair{500.0, m500}, {1000.0, m1000}, {2000.0, m2000}}) {
    EXPECT_GT(m / n, 6.5) << n;
    EXPECT_LT(m / n, 7.5) << n;
  }
  EXPECT_NEAR(m1000 / m500, 2.0, 0.1);
  EXPECT_NEAR(m2000 / m1000, 2.0, 0.1);
}

int Successes(double loss) {
  FloodingOverlay overlay(ConstantRtt(/*seed=*/3, loss));
  overlay.Build(1000);
  int successes = 0;
  for (size_t i = 0; i < 40; ++i) {
    const size_t holders[] = {(i * 7919 + 500) % 1000};
    successes += overlay.Search(i * 13 % 1000, holders).success;
  }
  return successes;
}

TEST(FloodingTest, LossReducesSuccessWithoutBreakingTheFlood) {
  EXPECT_EQ(Successes(0.0), 40);
  const int lossy = Successes(0.3);
  EXPECT_LT(lossy, 40);
  EXPECT_GT(lossy, 0);
  EXPECT_EQ(Successes(1.0), 0);
}

}  // namespace
}  // namespace kad::testing

// Disjoint lookup paths (S/Kademlia, dht/disjoint_lookup.h) against the
// drop attack of bench/adversary.h on a few hundred simulated nodes: half
// of the nodes answer every find with one another and drop every
// store. Gets and puts over several disjoint paths find the honest
// replicas that one path misses.
#include <gtest/gtest.h>

#include "bench/lookup_bench.h"
#include "bench/lookup_report.h"
#include "tests/testing/sanitized.h"

namespace kad::bench {
namespace {

LookupBenchOptions UnderAttack(int disjoint_paths) {
  LookupBenchOptions options;
  options.nodes = 400;
  options.lookups = 400;  // 200 puts and gets.
  options.seed = 12;
  options.adversary = 0.5;
  options.attack = AttackMode::kDrop;
  options.disjoint_paths = disjoint_paths;
  return options;
}

TEST(DisjointPathsTest, GetsUnderADropAttackSucceedThroughDisjointPaths) {
  absl::StatusOr<LookupBenchReport> one = RunSimLookupBench(UnderAttack(1), {});
  absl::StatusOr<LookupBenchReport> four =
      RunSimLookupBench(UnderAttack(4), {});
  ASSERT_TRUE(one.ok() && four.ok());
  ASSERT_TRUE(one->adversary && four->adversary);
  // The attack is real: with one path, gets fail (2.5 % of them at this
  // seed since widened lookups ask 3 spares, which reach a few more honest
  // nodes; 3 % or more with 1 spare).
  EXPECT_LT(one->get.success_rate(), 0.98);
  // Four disjoint paths get (nearly) everything back.
  EXPECT_GE(four->get.success_rate(), 0.99);
  EXPECT_GT(four->get.success_rate(), one->get.success_rate());
  EXPECT_EQ(ReportJson(*four)["disjoint_paths"], 4);
}

TEST(DisjointPathsTest, SameSeedGivesTheSameReport) {
  LookupBenchOptions options = UnderAttack(3);
  // Reproducibility needs no scale: a smaller overlay under ASan.
  options.nodes = testing::ForSanitizer<size_t>(options.nodes, 150);
  options.lookups = testing::ForSanitizer<size_t>(options.lookups, 100);
  absl::StatusOr<LookupBenchReport> first = RunSimLookupBench(options, {});
  absl::StatusOr<LookupBenchReport> second = RunSimLookupBench(options, {});
  ASSERT_TRUE(first.ok() && second.ok());
  nlohmann::ordered_json a = ReportJson(*first);
  nlohmann::ordered_json b = ReportJson(*second);
  for (const std::string& field : kWallClockFields) {
    a.erase(field);
    b.erase(field);
  }
  for (const std::string& field : kAllocatorFields) {
    a.erase(field);
    b.erase(field);
  }
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace kad::bench

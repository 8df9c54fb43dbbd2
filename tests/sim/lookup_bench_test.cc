// The lookup benchmark on a few hundred simulated nodes: lookups succeed,
// cost what Kademlia should, and one seed reproduces the report.
#include "bench/lookup_bench.h"

#include <gtest/gtest.h>

#include <atomic>

#include "bench/lookup_report.h"

namespace kad::bench {
namespace {

LookupBenchOptions SmallRun(uint64_t seed) {
  LookupBenchOptions options;
  options.nodes = 300;
  options.lookups = 200;
  options.seed = seed;
  return options;
}

// The report as JSON without its wall-clock fields, nor the heap measure
// (both runs share this process's heap).
nlohmann::ordered_json Deterministic(const LookupBenchReport& report) {
  nlohmann::ordered_json json = ReportJson(report);
  for (const std::string& field : kWallClockFields) json.erase(field);
  for (const std::string& field : kAllocatorFields) json.erase(field);
  return json;
}

TEST(LookupBenchTest, LookupsSucceedWithKademliaCosts) {
  absl::StatusOr<LookupBenchReport> report = RunSimLookupBench(SmallRun(1), {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->nodes, 300u);
  EXPECT_EQ(report->lookups, 200u);
  EXPECT_EQ(report->bootstrap_failures, 0);
  EXPECT_EQ(report->put_failures, 0u);
  EXPECT_FALSE(report->interrupted);
  EXPECT_GE(report->all.success_rate(), 0.99);
  EXPECT_EQ(report->find_node.lookups, 100u);
  EXPECT_EQ(report->get.lookups, 100u);
  // 300 nodes: a lookup reaches the closest within a few round trips and
  // a few dozen RPCs (k = 20, alpha = 3).
  EXPECT_GE(report->all.hops.mean, 1);
  EXPECT_LE(report->all.hops.max, 6);
  EXPECT_GE(report->find_node.rpcs.p50, 3);
  EXPECT_LE(report->find_node.rpcs.max, 60);
  EXPECT_GT(report->all.bytes.mean, 0);
  // The default model's median RTT is 80 ms; a sample of pairs is close.
  EXPECT_NEAR(report->median_rtt_ms, 80, 8);
  EXPECT_GT(report->get.latency_rtt.p50, 0.5);
  EXPECT_LT(report->get.latency_rtt.p50, 6);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's allocator bypasses mallinfo2.
  EXPECT_GT(report->bytes_per_node, 0);
#endif
}

TEST(LookupBenchTest, SameSeedGivesTheSameReport) {
  LookupBenchOptions options = SmallRun(5);
  options.loss = 0.01;
  options.churn = 0.1;
  absl::StatusOr<LookupBenchReport> first = RunSimLookupBench(options, {});
  absl::StatusOr<LookupBenchReport> second = RunSimLookupBench(options, {});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->churn_replaced, 30u);
  EXPECT_EQ(Deterministic(*first), Deterministic(*second))
      << Deterministic(*first).dump(1) << "\n"
      << Deterministic(*second).dump(1);

  options.seed = 6;
  absl::StatusOr<LookupBenchReport> other = RunSimLookupBench(options, {});
  ASSERT_TRUE(other.ok());
  EXPECT_NE(Deterministic(*first)["latency_ms"],
            Deterministic(*other)["latency_ms"]);
}

TEST(LookupBenchTest, DropAdversariesAreReportedAndReproducible) {
  LookupBenchOptions options = SmallRun(7);
  options.adversary = 0.2;
  options.attack = AttackMode::kDrop;
  absl::StatusOr<LookupBenchReport> first = RunSimLookupBench(options, {});
  absl::StatusOr<LookupBenchReport> second = RunSimLookupBench(options, {});
  ASSERT_TRUE(first.ok() && second.ok()) << first.status();
  ASSERT_TRUE(first->adversary.has_value());
  // About a fifth of 300 nodes.
  EXPECT_GT(first->adversary->adversaries, 40u);
  EXPECT_LT(first->adversary->adversaries, 80u);
  EXPECT_GT(first->adversary->finds_answered, 0u);
  EXPECT_GT(first->adversary->stores_dropped, 0u);
  EXPECT_EQ(first->adversary->eclipsed_keys, 0u);
  EXPECT_EQ(first->get.lookups, 100u);
  const nlohmann::ordered_json json = Deterministic(*first);
  EXPECT_EQ(json["adversary"]["attack"], "drop");
  EXPECT_EQ(json["adversary"]["fraction"], 0.2);
  EXPECT_EQ(json, Deterministic(*second));
}

TEST(LookupBenchTest, EclipseAdversariesSitNextToTheFirstKeys) {
  LookupBenchOptions options = SmallRun(8);
  options.adversary = 0.2;
  options.attack = AttackMode::kEclipse;
  absl::StatusOr<LookupBenchReport> report = RunSimLookupBench(options, {});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->adversary.has_value());
  const AdversaryReport& adversary = *report->adversary;
  // k = 20 Sybils to a key.
  EXPECT_EQ(adversary.eclipsed_keys, (adversary.adversaries + 19) / 20);
  EXPECT_EQ(adversary.eclipsed_gets.lookups, adversary.eclipsed_keys);
  EXPECT_EQ(ReportJson(*report)["adversary"]["sybil_prefix"], "shared");
}

TEST(LookupBenchTest, AdversaryAndAttackGoTogether) {
  LookupBenchOptions options = SmallRun(1);
  options.adversary = 0.1;
  EXPECT_FALSE(ValidateLookupBench(options).ok());
  options.adversary = 0;
  options.attack = AttackMode::kDrop;
  EXPECT_FALSE(ValidateLookupBench(options).ok());
  options.adversary = 1;
  EXPECT_FALSE(ValidateLookupBench(options).ok());
}

TEST(LookupBenchTest, OracleJoinSendsNothingToBuildAndLookupsSucceed) {
  LookupBenchOptions options = SmallRun(3);
  options.nodes = 2000;
  options.join = JoinMethod::kOracle;
  absl::StatusOr<LookupBenchReport> report = RunSimLookupBench(options, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->nodes, 2000u);
  EXPECT_EQ(report->bootstrap_virtual_seconds, 0);  // Nothing ran.
  EXPECT_EQ(report->bootstrap_failures, 0);
  EXPECT_EQ(report->put_failures, 0u);
  EXPECT_GE(report->all.success_rate(), 0.99);
  EXPECT_LE(report->all.hops.max, 6);
  EXPECT_EQ(ReportJson(*report)["join"], "oracle");
  EXPECT_EQ(ReportJson(*RunSimLookupBench(SmallRun(3), {}))["join"],
            "protocol");
}

TEST(LookupBenchTest, StopDuringTheOracleJoinRunsNoLookups) {
  LookupBenchOptions options = SmallRun(4);
  options.nodes = 20'000;
  options.join = JoinMethod::kOracle;
  std::atomic<bool> stop{false};
  BenchHooks hooks;
  hooks.stop = &stop;
  size_t last_done = 0;
  hooks.progress = [&](std::string_view phase, size_t done, size_t total) {
    EXPECT_EQ(phase, "join");
    EXPECT_EQ(total, 40'000u);
    last_done = done;
    if (done >= 8192) stop.store(true);
  };
  absl::StatusOr<LookupBenchReport> report = RunSimLookupBench(options, hooks);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->interrupted);
  EXPECT_EQ(report->lookups, 0u);
  EXPECT_LT(last_done, 20'000u);  // Stopped while adding nodes.
}

TEST(LookupBenchTest, StopGivesAPartialReport) {
  std::atomic<bool> stop{false};
  BenchHooks hooks;
  hooks.stop = &stop;
  hooks.progress = [&](std::string_view phase, size_t done, size_t) {
    if (phase == "lookups" && done == 50) stop.store(true);
  };
  absl::StatusOr<LookupBenchReport> report =
      RunSimLookupBench(SmallRun(2), hooks);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->interrupted);
  // Lookups already running when it stopped still finish.
  EXPECT_GE(report->lookups, 50u);
  EXPECT_LT(report->lookups, 200u);
}

}  // namespace
}  // namespace kad::bench

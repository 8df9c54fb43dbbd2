// kad bench rpc's report: medians over rounds, ratios paired within
// rounds, the gate's cost. Pure; here beside the benchmark's own test
// because the benchmark's library links libuv.
#include "bench/rpc_report.h"

#include <string>

#include "gtest/gtest.h"

namespace kad::bench {
namespace {

// A phase whose server answered `per_cpu_s` requests per CPU-second and
// the client saw `per_s` per second.
RpcPhase Phase(ServerKind server, RpcGate gate, int round, double per_cpu_s,
               double per_s = 1000) {
  RpcPhase phase;
  phase.server = server;
  phase.gate = gate;
  phase.request = RpcRequest::kPing;
  phase.round = round;
  phase.load.replies = static_cast<uint64_t>(per_s);
  phase.load.seconds = 1;
  phase.load.server_cpu_seconds = per_s / per_cpu_s;
  return phase;
}

TEST(RpcReportTest, ResultsAreMediansAndRatiosArePairedWithinRounds) {
  RpcBenchReport report;
  report.options.repeat = 3;
  // Round 1 ran on a busier machine: everything slower, alike.
  const double raw[] = {300'000, 200'000, 310'000};
  const double uv[] = {250'000, 170'000, 260'000};
  const double node_off[] = {240'000, 160'000, 250'000};
  const double node_raised[] = {230'000, 150'000, 240'000};
  for (int round = 0; round < 3; ++round) {
    report.phases.push_back(
        Phase(ServerKind::kRawEcho, RpcGate::kOff, round, raw[round]));
    report.phases.push_back(
        Phase(ServerKind::kLibuvEcho, RpcGate::kOff, round, uv[round]));
    report.phases.push_back(
        Phase(ServerKind::kNode, RpcGate::kOff, round, node_off[round]));
    report.phases.push_back(
        Phase(ServerKind::kNode, RpcGate::kRaised, round, node_raised[round]));
  }
  nlohmann::ordered_json json = RpcReportJson(report);
  ASSERT_EQ(json["results"].size(), 4u);
  EXPECT_EQ(json["results"][0]["target"], "raw_echo");
  EXPECT_TRUE(json["results"][0]["gate"].is_null());
  EXPECT_DOUBLE_EQ(json["results"][0]["requests_per_cpu_s"], 300'000);
  EXPECT_EQ(json["results"][0]["median_round"]["round"], 0);
  EXPECT_EQ(json["results"][3]["target"], "node_gate_raised");
  EXPECT_EQ(json["results"][3]["gate"], "raised");
  EXPECT_DOUBLE_EQ(json["results"][3]["requests_per_cpu_s"], 230'000);
  EXPECT_EQ(json["results"][3]["samples_per_cpu_s"].size(), 3u);
  // Per round: 240/250 = 0.96, 160/170 = 0.941, 250/260 = 0.962.
  EXPECT_NEAR(json["ratios"]["node_gate_off/libuv_echo"], 0.96, 1e-9);
  // 230/250 = 0.92, 150/170 = 0.882, 240/260 = 0.923.
  EXPECT_NEAR(json["ratios"]["node_gate_raised/libuv_echo"], 0.92, 1e-9);
  // 250/300 = 0.833, 170/200 = 0.85, 260/310 = 0.839: not the ratio of
  // the medians (250/300).
  EXPECT_NEAR(json["ratios"]["libuv_echo/raw_echo"], 260.0 / 310, 1e-9);
  // Every phase saw 1000/s on the wall clock.
  EXPECT_NEAR(json["ratios_wall"]["node_gate_raised/raw_echo"], 1, 1e-9);
  // 1e9/230,000 - 1e9/240,000 ns.
  EXPECT_NEAR(json["gate_cost_ns"]["ping"]["raised"],
              1e9 / 230'000 - 1e9 / 240'000, 1e-6);
  EXPECT_FALSE(json["gate_cost_ns"]["ping"].contains("off"));
}

TEST(RpcReportTest, TableNamesEveryTargetAndRatio) {
  RpcBenchReport report;
  report.phases.push_back(Phase(ServerKind::kLibuvEcho, RpcGate::kOff, 0, 2e5));
  report.phases.push_back(Phase(ServerKind::kNode, RpcGate::kExempt, 0, 1.9e5));
  const std::string table = RpcReportTable(report);
  EXPECT_NE(table.find("libuv_echo"), std::string::npos);
  EXPECT_NE(table.find("node_gate_exempt"), std::string::npos);
  EXPECT_NE(table.find("node_gate_exempt/libuv_echo"), std::string::npos);
  EXPECT_NE(table.find("0.950"), std::string::npos);
}

}  // namespace
}  // namespace kad::bench

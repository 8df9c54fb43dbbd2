// The shape of kad bench lookup's JSON and CSV reports (docs/BENCH.md).
#include "bench/lookup_report.h"

#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "bench/lookup_bench.h"

namespace kad::bench {
namespace {

LookupBenchReport Example(bool with_baseline) {
  LookupBenchReport report;
  report.options.nodes = 10;
  report.options.lookups = 4;
  report.options.seed = 9;
  report.nodes = 10;
  report.lookups = 4;
  report.all.lookups = 4;
  report.all.successes = 3;
  report.all.rpcs = Summarize({10, 20, 30});
  if (with_baseline) {
    BaselineReport baseline;
    baseline.lookups = 2;
    baseline.flooding.lookups = 2;
    baseline.flooding.successes = 2;
    baseline.flooding.rpcs = Summarize({1000, 1000});
    baseline.kademlia_same.rpcs = Summarize({20, 20});
    baseline.flooding.latency_ms = Summarize({100, 100});
    baseline.kademlia_same.latency_ms = Summarize({50, 50});
    report.baseline = baseline;
  }
  return report;
}

TEST(LookupReportTest, JsonHasTheDocumentedFields) {
  const nlohmann::ordered_json json = ReportJson(Example(false));
  for (const char* field :
       {"nodes", "lookups", "seed", "transport", "bootstrap_seconds",
        "bootstrap_virtual_seconds", "bytes_per_node", "success_rate",
        "median_rtt_ms", "k", "alpha", "loss", "churn", "rtt_model",
        "failures", "interrupted", "lookup_seconds"}) {
    EXPECT_TRUE(json.contains(field)) << field;
  }
  for (const char* summary :
       {"hops", "rpcs", "bytes", "latency_ms", "latency_rtt"}) {
    ASSERT_TRUE(json.contains(summary)) << summary;
    for (const char* stat : {"mean", "p50", "p90", "p99", "max"}) {
      EXPECT_TRUE(json[summary][stat].is_number()) << summary << "." << stat;
    }
    EXPECT_TRUE(json["find_node"][summary].is_object());
    EXPECT_TRUE(json["get"][summary].is_object());
  }
  EXPECT_EQ(json["transport"], "sim");
  EXPECT_EQ(json["seed"], 9);
  EXPECT_DOUBLE_EQ(json["success_rate"].get<double>(), 0.75);
  EXPECT_EQ(json["failures"], 1);
  EXPECT_EQ(json["rpcs"]["p50"], 20);
  EXPECT_FALSE(json.contains("baseline"));
  EXPECT_FALSE(json.contains("ratio"));
  for (const std::string& field : kWallClockFields) {
    EXPECT_TRUE(json.contains(field)) << field;
  }
}

TEST(LookupReportTest, BaselineHasTheSameShapeAndRatios) {
  const nlohmann::ordered_json json = ReportJson(Example(true));
  ASSERT_TRUE(json.contains("baseline"));
  for (const char* summary :
       {"hops", "rpcs", "bytes", "latency_ms", "latency_rtt"}) {
    EXPECT_TRUE(json["baseline"][summary]["p99"].is_number()) << summary;
  }
  EXPECT_EQ(json["baseline"]["lookups"], 2);
  EXPECT_DOUBLE_EQ(json["ratio"]["messages"].get<double>(), 0.02);
  EXPECT_DOUBLE_EQ(json["ratio"]["latency"].get<double>(), 0.5);
  EXPECT_TRUE(json["ratio"]["bytes"].is_null());  // No flooding bytes.
}

TEST(LookupReportTest, CsvIsAHeaderAndOneRowOfFlattenedFields) {
  const std::string csv = ReportCsv(Example(true));
  std::vector<std::string> lines = absl::StrSplit(csv, '\n');
  ASSERT_EQ(lines.size(), 3u);  // Header, row, and "" after the last '\n'.
  EXPECT_EQ(lines[2], "");
  std::vector<std::string> names = absl::StrSplit(lines[0], ',');
  std::vector<std::string> values = absl::StrSplit(lines[1], ',');
  ASSERT_EQ(names.size(), values.size());
  EXPECT_EQ(names[0], "nodes");
  EXPECT_EQ(values[0], "10");
  auto column = [&](const std::string& name) {
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? std::string("missing")
                             : values[it - names.begin()];
  };
  EXPECT_EQ(column("rpcs_p50"), "20.0");
  EXPECT_EQ(column("transport"), "sim");
  EXPECT_EQ(column("get_latency_ms_p99"), "0.0");
  EXPECT_EQ(column("baseline_rpcs_mean"), "1000.0");
  EXPECT_EQ(column("ratio_messages"), "0.02");
}

TEST(LookupReportTest, LatencyCdfIsNearestRankOverSuccessfulLookups) {
  std::vector<LookupRecord> records(101);
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].ran = true;
    records[i].sample.success = i < 100;  // The last one failed.
    records[i].sample.latency = absl::Milliseconds(100 - static_cast<int>(i));
  }
  const LookupStatsSummary summary =
      Summarize(records, 0, records.size(), /*median_rtt_ms=*/10);
  ASSERT_EQ(summary.latency_cdf.size(), std::size(kCdfPercentiles));
  EXPECT_EQ(summary.latency_cdf.front(), (std::pair<double, double>{1, 0.01}));
  EXPECT_EQ(summary.latency_cdf[11], (std::pair<double, double>{50, 0.5}));
  EXPECT_EQ(summary.latency_cdf.back(), (std::pair<double, double>{100, 1}));
  for (size_t i = 1; i < summary.latency_cdf.size(); ++i) {
    EXPECT_LE(summary.latency_cdf[i - 1].first, summary.latency_cdf[i].first);
  }

  LookupBenchReport report = Example(true);
  report.all = summary;
  const nlohmann::ordered_json json = ReportJson(report);
  ASSERT_TRUE(json["latency_cdf"].is_array());
  EXPECT_EQ(json["latency_cdf"][11], nlohmann::ordered_json::array({50, 0.5}));
  EXPECT_EQ(json["baseline"]["latency_cdf"], nlohmann::ordered_json::array());
  EXPECT_EQ(ReportCsv(report).find("latency_cdf"), std::string::npos);
}

TEST(LookupReportTest, TableNamesTheRunAndEveryMeasure) {
  const std::string table = ReportTable(Example(true));
  for (const char* text : {"10 simulated nodes", "seed 9", "hops", "rpcs",
                           "latency ms", "latency x median RTT", "flooding",
                           "messages 0.02"}) {
    EXPECT_NE(table.find(text), std::string::npos) << text << "\n" << table;
  }
}

}  // namespace
}  // namespace kad::bench

#include "runtime/prometheus_metrics.h"

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "bench/sim_overlay.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_builders.h"

namespace kad::runtime {
namespace {

using ::testing::HasSubstr;

// A strict reader of the text exposition format (version 0.0.4) as we
// write it: every line is `# HELP name text`, `# TYPE name type` or
// `name[{label="value",...}] value`, and ends in '\n'. Fails the test on
// any other line, on a sample before its family's TYPE line, on a family
// declared twice, on a counter not named *_total, or on a histogram whose
// buckets are not cumulative up to +Inf == _count. Returns every sample,
// keyed by `name{labels}` as written.
std::map<std::string, double> ParseExposition(const std::string& text) {
  static const std::regex kHelp(R"(# HELP (kad_[a-z_]+) [^\n]+)");
  static const std::regex kType(
      R"(# TYPE (kad_[a-z_]+) (counter|gauge|histogram))");
  static const std::regex kSample(
      R"re((kad_[a-z_]+)(\{[a-z_]+="(?:[^"\\\n]|\\.)*"(?:,[a-z_]+="(?:[^"\\\n]|\\.)*")*\})? ([0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?))re");
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;  // Family name -> type.
  std::set<std::string> helped;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  lines.pop_back();  // After the final '\n'.
  for (const std::string& line : lines) {
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) {
      EXPECT_TRUE(helped.insert(m[1]).second) << "HELP twice: " << line;
    } else if (std::regex_match(line, m, kType)) {
      EXPECT_TRUE(helped.contains(m[1])) << "TYPE before HELP: " << line;
      EXPECT_TRUE(types.emplace(m[1], m[2]).second) << "TYPE twice: " << line;
      if (m[2] == "counter") {
        EXPECT_TRUE(std::string(m[1]).ends_with("_total")) << line;
      }
    } else if (std::regex_match(line, m, kSample)) {
      std::string family = m[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string base =
            family.substr(0, family.size() - std::string_view(suffix).size());
        if (family.ends_with(suffix) && types.contains(base) &&
            types[base] == "histogram") {
          family = base;
        }
      }
      EXPECT_TRUE(types.contains(family)) << "sample before TYPE: " << line;
      EXPECT_TRUE(
          samples
              .emplace(std::string(m[1]) + std::string(m[2]), std::stod(m[3]))
              .second)
          << "sample twice: " << line;
    } else {
      ADD_FAILURE() << "not exposition format: '" << line << "'";
    }
  }
  for (const auto& [family, type] : types) {
    if (type != "histogram") continue;
    std::map<double, double> buckets;  // le -> cumulative count.
    const std::string prefix = family + "_bucket{le=\"";
    for (const auto& [key, value] : samples) {
      if (!key.starts_with(prefix)) continue;
      const std::string le =
          key.substr(prefix.size(), key.size() - prefix.size() - 2);
      buckets[le == "+Inf" ? INFINITY : std::stod(le)] = value;
    }
    EXPECT_FALSE(buckets.empty()) << family;
    if (buckets.empty()) continue;
    double previous = 0;
    for (const auto& [le, count] : buckets) {
      EXPECT_GE(count, previous) << family << " le=" << le;
      previous = count;
    }
    EXPECT_EQ(buckets.rbegin()->first, INFINITY) << family;
    EXPECT_EQ(previous, samples[family + "_count"]) << family;
    EXPECT_TRUE(samples.contains(family + "_sum")) << family;
  }
  return samples;
}

MetricsSnapshot Example() {
  MetricsSnapshot snapshot;
  snapshot.node_id = std::string(40, 'a');
  snapshot.stats.uptime_seconds = 61;
  snapshot.stats.buckets = {{0, 20}, {1, 7}};
  snapshot.stats.records = 3;
  snapshot.stats.record_bytes = 300;
  snapshot.counters.datagrams_in = 10;
  snapshot.counters.messages_in[static_cast<size_t>(dht::MessageType::kPing)] =
      4;
  snapshot.counters
      .messages_out[static_cast<size_t>(dht::MessageType::kStore)] = 2;
  dht::LatencyHistogram histogram;
  histogram.Add(absl::Milliseconds(3));
  histogram.Add(absl::Milliseconds(40));
  histogram.Add(absl::Seconds(30));
  snapshot.lookup_duration = histogram.Buckets();
  return snapshot;
}

TEST(PrometheusMetricsTest, FormatIsStrictExposition) {
  std::map<std::string, double> samples =
      ParseExposition(FormatPrometheus(Example()));
  EXPECT_EQ(samples["kad_node_info{id=\"" + std::string(40, 'a') + "\"}"], 1);
  EXPECT_EQ(samples["kad_uptime_seconds"], 61);
  EXPECT_EQ(samples["kad_contacts"], 27);
  EXPECT_EQ(samples["kad_buckets"], 2);
  EXPECT_EQ(samples["kad_records"], 3);
  EXPECT_EQ(samples["kad_record_bytes"], 300);
  EXPECT_EQ(samples["kad_datagrams_in_total"], 10);
  EXPECT_EQ(samples["kad_messages_in_total{type=\"ping\"}"], 4);
  EXPECT_EQ(samples["kad_messages_in_total{type=\"store\"}"], 0);
  EXPECT_EQ(samples["kad_messages_out_total{type=\"store\"}"], 2);
  EXPECT_EQ(samples["kad_messages_out_total{type=\"offer_reply\"}"], 0);
}

TEST(PrometheusMetricsTest, AbuseCountersHaveOneLineEach) {
  MetricsSnapshot snapshot = Example();
  snapshot.counters.requests_refused = 5;
  snapshot.counters.reply_bytes_withheld = 4096;
  snapshot.stats.sources_banned = 2;
  snapshot.counters
      .stores_refused[static_cast<size_t>(dht::ErrorCode::kSourceQuota)] = 7;
  std::map<std::string, double> samples =
      ParseExposition(FormatPrometheus(snapshot));
  EXPECT_EQ(samples["kad_requests_dropped_total"], 5);
  EXPECT_EQ(samples["kad_reply_bytes_withheld_total"], 4096);
  EXPECT_EQ(samples["kad_sources_banned_total"], 2);
  EXPECT_EQ(samples["kad_stores_refused_total{reason=\"source_quota\"}"], 7);
  EXPECT_EQ(samples["kad_stores_refused_total{reason=\"not_closest\"}"], 0);
  EXPECT_EQ(samples["kad_stores_refused_total{reason=\"store_full\"}"], 0);
}

TEST(PrometheusMetricsTest, HistogramBucketsAreCumulative) {
  const std::string text = FormatPrometheus(Example());
  ParseExposition(text);
  EXPECT_THAT(text,
              HasSubstr("# TYPE kad_lookup_duration_seconds histogram\n"
                        "kad_lookup_duration_seconds_bucket{le=\"0.001\"} 0\n"
                        "kad_lookup_duration_seconds_bucket{le=\"0.0025\"} 0\n"
                        "kad_lookup_duration_seconds_bucket{le=\"0.005\"} 1\n"
                        "kad_lookup_duration_seconds_bucket{le=\"0.01\"} 1\n"
                        "kad_lookup_duration_seconds_bucket{le=\"0.025\"} 1\n"
                        "kad_lookup_duration_seconds_bucket{le=\"0.05\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("kad_lookup_duration_seconds_bucket{le=\"10\"} 2\n"
                        "kad_lookup_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                        "kad_lookup_duration_seconds_sum 30.043\n"
                        "kad_lookup_duration_seconds_count 3\n"));
}

TEST(PrometheusMetricsTest, EveryMessageTypeHasASample) {
  std::map<std::string, double> samples =
      ParseExposition(FormatPrometheus(MetricsSnapshot{}));
  for (size_t i = 0; i < dht::kMessageTypeCount; ++i) {
    const std::string type =
        dht::MessageTypeName(static_cast<dht::MessageType>(i));
    EXPECT_TRUE(
        samples.contains("kad_messages_in_total{type=\"" + type + "\"}"))
        << type;
    EXPECT_TRUE(
        samples.contains("kad_messages_out_total{type=\"" + type + "\"}"))
        << type;
  }
}

TEST(PrometheusMetricsTest, LabelValuesAreEscaped) {
  MetricsSnapshot snapshot;
  snapshot.node_id = "a\"b\\c\nd";
  const std::string text = FormatPrometheus(snapshot);
  EXPECT_THAT(text, HasSubstr("kad_node_info{id=\"a\\\"b\\\\c\\nd\"} 1\n"));
  ParseExposition(text);
}

TEST(PrometheusMetricsTest, SnapshotCountsANodesLookups) {
  bench::SimOverlay overlay{testing::SmallOverlay()};
  overlay.JoinOneByOne(5);
  dht::Node& node = overlay.node(2);
  const MetricsSnapshot before = TakeMetricsSnapshot(node);
  auto found = overlay.Run<dht::LookupResult>(
      [&](auto done) { node.FindNode(overlay.node(4).id(), std::move(done)); });
  ASSERT_TRUE(found.ok()) << found.status();
  const MetricsSnapshot after = TakeMetricsSnapshot(node);

  EXPECT_EQ(after.node_id, node.id().ToHex());
  EXPECT_EQ(after.lookup_duration.count, before.lookup_duration.count + 1);
  EXPECT_EQ(after.counters.lookups_finished,
            before.counters.lookups_finished + 1);
  EXPECT_EQ(after.stats.lookups_finished, after.counters.lookups_finished);
  EXPECT_GT(after.counters.datagrams_out, before.counters.datagrams_out);
  std::map<std::string, double> samples =
      ParseExposition(FormatPrometheus(after));
  EXPECT_EQ(samples["kad_lookup_duration_seconds_count"],
            after.lookup_duration.count);
  EXPECT_EQ(samples["kad_contacts"], node.routing_table().size());
}

}  // namespace
}  // namespace kad::runtime

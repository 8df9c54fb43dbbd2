#include "dht/stats_service.h"

#include <string>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace kad::dht {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

net::Endpoint At(const std::string& text) {
  return *net::Endpoint::Parse(text);
}

// A StatsService over real collaborators, started at kStart.
struct Fixture {
  explicit Fixture(std::vector<net::Subnet> allow = {})
      : table(NodeId::ForKey("self"), RoutingTableOptions{}, kStart),
        gate(AdmissionOptions{}, std::nullopt, 0),
        service(std::move(allow), kStart, table, store, stats, latency, gate) {}

  RoutingTable table;
  storage::MemoryStore store;
  NodeStats stats;
  LatencyWindow latency;
  RequestGate gate;
  StatsService service;
};

TEST(StatsServiceTest, ServesLoopbackOnlyByDefault) {
  Fixture f;
  EXPECT_TRUE(f.service.Allows(At("127.0.0.1:5000")));
  EXPECT_TRUE(f.service.Allows(At("127.3.2.1:5000")));
  EXPECT_TRUE(f.service.Allows(At("[::1]:5000")));
  EXPECT_FALSE(f.service.Allows(At("10.0.0.1:5000")));
  EXPECT_FALSE(f.service.Allows(At("[fd00::1]:5000")));
  Body refused = f.service.Answer(At("203.0.113.5:4222"), kStart);
  ASSERT_TRUE(std::holds_alternative<Error>(refused));
  EXPECT_EQ(std::get<Error>(refused).code, ErrorCode::kForbidden);
  EXPECT_EQ(std::get<Error>(refused).reason,
            "stats are served to loopback only (see --stats-allow)");
  EXPECT_TRUE(std::holds_alternative<StatsReply>(
      f.service.Answer(At("127.0.0.1:5000"), kStart)));
}

TEST(StatsServiceTest, ServesTheAllowedSubnetsToo) {
  Fixture f(
      {*net::Subnet::Parse("10.0.0.0/8"), *net::Subnet::Parse("fd00::/8")});
  EXPECT_TRUE(f.service.Allows(At("10.20.30.40:1")));
  EXPECT_TRUE(f.service.Allows(At("[fd12::7]:1")));
  EXPECT_TRUE(f.service.Allows(At("127.0.0.1:1")));
  EXPECT_FALSE(f.service.Allows(At("11.0.0.1:1")));
  EXPECT_FALSE(f.service.Allows(At("[fe80::1]:1")));
}

TEST(StatsServiceTest, SnapshotMirrorsTheNodesState) {
  Fixture f;
  ASSERT_TRUE(
      f.store.Put({"key", "value", 1, kStart + absl::Hours(1)}, kStart).ok());
  f.table.OnResponse({NodeId::ForKey("peer"), At("10.0.0.9:4222")}, kStart);
  f.stats.datagrams_in = 10;
  f.stats.bytes_out = 999;
  f.stats.messages_in[static_cast<size_t>(MessageType::kStore)] = 4;
  f.stats.stores_rejected = 3;
  f.stats.stores_refused[static_cast<size_t>(ErrorCode::kSourceQuota)] = 2;
  f.stats.requests_refused = 7;
  f.stats.reply_bytes_withheld = 1234;
  // One address over its burst of 1,000 and then its ban threshold.
  for (int i = 0; i < 10'000; ++i) f.gate.Admit(At("203.0.113.9:1"), kStart);
  f.latency.Add(absl::Milliseconds(20));
  f.latency.Add(absl::Microseconds(1500));
  StatsReply reply = f.service.Snapshot(kStart + absl::Milliseconds(61'900));
  EXPECT_EQ(reply.uptime_seconds, 61u);
  ASSERT_EQ(reply.buckets.size(), f.table.Buckets().size());
  EXPECT_EQ(reply.buckets[0], (BucketCount{0, 1}));
  EXPECT_EQ(reply.records, 1u);
  EXPECT_EQ(reply.record_bytes, f.store.stats().bytes);
  EXPECT_EQ(reply.datagrams_in, 10u);
  EXPECT_EQ(reply.bytes_out, 999u);
  EXPECT_EQ(reply.messages_in[static_cast<size_t>(MessageType::kStore)], 4u);
  EXPECT_EQ(reply.stores_rejected, 3u);
  ASSERT_EQ(reply.stores_refused.size(), kErrorCodeCount);
  EXPECT_EQ(
      reply.stores_refused[static_cast<size_t>(ErrorCode::kSourceQuota)], 2u);
  EXPECT_EQ(reply.requests_dropped, 7u);
  EXPECT_EQ(reply.sources_banned, 1u);
  EXPECT_EQ(reply.reply_bytes_withheld, 1234u);
  EXPECT_EQ(reply.lookup_latency,
            (LatencyPercentiles{1500, 20000, 20000, 20000}));
}

Message Answer(Body body, std::optional<NodeId> sender = NodeId::ForKey("a")) {
  return Message{9, sender, std::move(body)};
}

TEST(StatsServiceTest, ReportCarriesTheAnsweringNode) {
  const net::Endpoint node = At("127.0.0.1:4222");
  StatsReply reply;
  reply.records = 5;
  absl::StatusOr<StatsReport> report = ToStatsReport(node, Answer(reply));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->id, NodeId::ForKey("a"));
  EXPECT_EQ(report->address, node);
  EXPECT_EQ(report->stats, reply);
}

TEST(StatsServiceTest, ReportErrorsNameTheNode) {
  const net::Endpoint node = At("10.1.1.1:4222");
  absl::StatusOr<StatsReport> forbidden =
      ToStatsReport(node, Answer(Error{ErrorCode::kForbidden, "not for you"}));
  EXPECT_TRUE(absl::IsPermissionDenied(forbidden.status()));
  EXPECT_EQ(forbidden.status().message(),
            "10.1.1.1:4222 refused stats: not for you");
  absl::StatusOr<StatsReport> internal =
      ToStatsReport(node, Answer(Error{ErrorCode::kInternal, "oops"}));
  EXPECT_TRUE(absl::IsUnavailable(internal.status()));
  absl::StatusOr<StatsReport> anonymous =
      ToStatsReport(node, Answer(StatsReply{}, std::nullopt));
  EXPECT_TRUE(absl::IsUnavailable(anonymous.status()));
  EXPECT_THAT(std::string(anonymous.status().message()),
              HasSubstr("without a node id"));
  absl::StatusOr<StatsReport> timed_out =
      ToStatsReport(node, absl::DeadlineExceededError("stats timed out"));
  EXPECT_TRUE(absl::IsDeadlineExceeded(timed_out.status()));
}

}  // namespace
}  // namespace kad::dht

// Record maintenance end to end on a small simulated overlay, and the offer
// side of RequestHandler on its own.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dht/node.h"
#include "dht/replicator.h"
#include "dht/request_handler.h"
#include "dht/routing_table.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"
#include "tests/testing/sim_builders.h"

namespace kad::dht {
namespace {

using bench::SimOverlay;
using testing::SmallOverlay;

constexpr absl::Duration kInterval = absl::Minutes(10);

NodeOptions Replicating() {
  NodeOptions options;
  options.replicate_interval = kInterval;
  options.republish_interval = absl::InfiniteDuration();
  return options;
}

storage::Record Hello(SimOverlay& overlay) {
  return storage::Record{"hello", "world", 1,
                         overlay.clock().Now() + absl::Hours(24)};
}

// Indices of the members whose store holds `key`.
std::vector<size_t> Holders(SimOverlay& overlay, const std::string& key) {
  std::vector<size_t> holders;
  for (size_t i = 0; i < overlay.size(); ++i) {
    if (overlay.member(i).store->Get(key, overlay.clock().Now()).ok()) {
      holders.push_back(i);
    }
  }
  return holders;
}

NodeStats Total(SimOverlay& overlay) {
  NodeStats total;
  for (size_t i = 0; i < overlay.size(); ++i) {
    const NodeStats& s = overlay.node(i).stats();
    total.replication_rounds += s.replication_rounds;
    total.offers_sent += s.offers_sent;
    total.summaries_offered += s.summaries_offered;
    total.records_pushed += s.records_pushed;
    total.maintenance_bytes += s.maintenance_bytes;
  }
  return total;
}

void RunFor(SimOverlay& overlay, absl::Duration duration) {
  const absl::Time until = overlay.clock().Now() + duration;
  while (overlay.clock().Now() < until && overlay.clock().RunNext()) {
  }
}

TEST(NodeReplicationTest, AReplicaThatLostTheRecordGetsItBackFromARound) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(12, Replicating());
  auto put = overlay.Run<PutResult>(
      [&](auto done) { overlay.node(3).Put(Hello(overlay), std::move(done)); });
  ASSERT_TRUE(put.ok()) << put.status();
  const std::vector<size_t> holders = Holders(overlay, "hello");
  ASSERT_EQ(holders.size(), overlay.size());  // k = 20 > 12: everyone.
  ASSERT_TRUE(overlay.member(holders[0]).store->Remove("hello"));

  RunFor(overlay, 2 * kInterval);
  EXPECT_EQ(Holders(overlay, "hello").size(), overlay.size());
  const NodeStats total = Total(overlay);
  EXPECT_GT(total.replication_rounds, 0u);
  // One record was missing: it travelled once; every other offer of it
  // cost only its summary.
  EXPECT_EQ(total.records_pushed, 1u);
  EXPECT_GT(total.summaries_offered, total.records_pushed);
  EXPECT_GT(total.maintenance_bytes, 0u);
}

TEST(NodeReplicationTest, RoundsRepairAnOlderVersion) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(8, Replicating());
  storage::Record old_version = Hello(overlay);
  ASSERT_TRUE(overlay
                  .Run<PutResult>([&](auto done) {
                    overlay.node(0).Put(old_version, std::move(done));
                  })
                  .ok());
  // One replica alone learns of a newer version.
  storage::Record newer = old_version;
  newer.value = "newer";
  newer.seq = 2;
  ASSERT_TRUE(overlay.member(5).store->Put(newer, overlay.clock().Now()).ok());

  RunFor(overlay, 2 * kInterval);
  for (size_t i = 0; i < overlay.size(); ++i) {
    auto held = overlay.member(i).store->Get("hello", overlay.clock().Now());
    ASSERT_TRUE(held.ok()) << "node " << i;
    EXPECT_EQ(held->value, "newer") << "node " << i;
  }
}

TEST(NodeReplicationTest, ANodeJoiningNextToAKeyIsHandedItsRecord) {
  SimOverlay overlay{SmallOverlay()};
  NodeOptions options = Replicating();
  options.bucket_size = 4;  // Few replicas, so the newcomer displaces one.
  options.replicate_interval = absl::InfiniteDuration();  // Hand-offs only.
  overlay.JoinOneByOne(16, options);
  ASSERT_TRUE(overlay
                  .Run<PutResult>([&](auto done) {
                    overlay.node(2).Put(Hello(overlay), std::move(done));
                  })
                  .ok());
  ASSERT_EQ(Holders(overlay, "hello").size(), 4u);

  NodeOptions newcomer = options;
  newcomer.id = NodeId::ForKey("hello");  // As close as a node can be.
  overlay.JoinOneByOne(1, newcomer);
  const size_t joined = overlay.size() - 1;
  EXPECT_FALSE(
      overlay.member(joined).store->Get("hello", overlay.clock().Now()).ok());
  RunFor(overlay, options.handoff_delay + absl::Seconds(5));
  EXPECT_TRUE(
      overlay.member(joined).store->Get("hello", overlay.clock().Now()).ok());
  EXPECT_EQ(Total(overlay).replication_rounds, 0u);
}

TEST(NodeReplicationTest, NothingIsOfferedWhenReplicationIsOff) {
  SimOverlay overlay{SmallOverlay()};
  NodeOptions off = Replicating();
  off.replicate_interval = absl::InfiniteDuration();
  off.handoff_delay = absl::InfiniteDuration();
  overlay.JoinOneByOne(6, off);
  ASSERT_TRUE(overlay
                  .Run<PutResult>([&](auto done) {
                    overlay.node(1).Put(Hello(overlay), std::move(done));
                  })
                  .ok());
  overlay.JoinOneByOne(2, off);
  RunFor(overlay, 3 * kInterval);
  EXPECT_EQ(Total(overlay).offers_sent, 0u);
}

// RequestHandler's side of an offer, without a network.
struct HandlerHarness {
  HandlerHarness()
      : gen(5),
        self(NodeId::Random(gen)),
        table(self, RoutingTableOptions{}, kNow),
        tokens(gen, absl::Minutes(5), kNow),
        gate(std::nullopt, std::nullopt, 0),
        stats_service({}, kNow, table, store, stats, latency, gate),
        handler(20, table, store, tokens, stats, stats_service, nullptr) {}

  Body Offer(std::vector<RecordSummary> summaries) {
    Message request{1, NodeId::Random(gen), dht::Offer{std::move(summaries)}};
    return handler.Handle(request, kFrom, kNow);
  }

  static constexpr absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
  const net::Endpoint kFrom = net::Endpoint::Ipv4({10, 1, 2, 3}, 4222);
  std::mt19937_64 gen;
  NodeId self;
  RoutingTable table;
  storage::MemoryStore store;
  TokenIssuer tokens;
  NodeStats stats;
  LatencyWindow latency;
  RequestGate gate;
  StatsService stats_service;
  RequestHandler handler;
};

TEST(NodeReplicationTest, OfferIsAnsweredWithWhatTheNodeLacksOrHoldsOlder) {
  HandlerHarness h;
  const absl::Time expires = HandlerHarness::kNow + absl::Hours(1);
  storage::Record same{"same", "v", 5, expires};
  storage::Record older{"older", "v", 5, expires};
  storage::Record newer{"newer", "v", 5, expires};
  storage::Record tie{"tie", "a", 5, expires};
  for (const auto& record : {same, older, newer, tie}) {
    ASSERT_TRUE(h.store.Put(record, HandlerHarness::kNow).ok());
  }
  storage::Record tie_other = tie;
  tie_other.value = "b";
  // The version order breaks the tie by digest: offer whichever wins.
  const bool b_wins = storage::Supersedes(tie_other, tie);
  storage::Record older_offer = older;
  older_offer.seq = 6;  // We hold seq 5: older, wanted.
  storage::Record newer_offer = newer;
  newer_offer.seq = 4;  // We hold seq 5: not wanted.
  Body reply =
      h.Offer({SummaryOf(same), SummaryOf(older_offer), SummaryOf(newer_offer),
               SummaryOf({"absent", "v", 1, expires}),
               SummaryOf(b_wins ? tie_other : tie)});
  const auto* answer = std::get_if<OfferReply>(&reply);
  ASSERT_NE(answer, nullptr);
  std::vector<uint32_t> expected = {1, 3};
  if (b_wins) expected.push_back(4);
  EXPECT_EQ(answer->wanted, expected);
  // The token lets the offerer store what was wanted.
  EXPECT_TRUE(h.tokens.Verify(answer->token, h.kFrom, HandlerHarness::kNow));
}

TEST(NodeReplicationTest, OfferOfRecordsAllHeldGetsNoToken) {
  HandlerHarness h;
  storage::Record held{"k", "v", 1, HandlerHarness::kNow + absl::Hours(1)};
  ASSERT_TRUE(h.store.Put(held, HandlerHarness::kNow).ok());
  Body reply = h.Offer({SummaryOf(held)});
  ASSERT_TRUE(std::holds_alternative<OfferReply>(reply));
  EXPECT_EQ(std::get<OfferReply>(reply), OfferReply{});
}

}  // namespace
}  // namespace kad::dht

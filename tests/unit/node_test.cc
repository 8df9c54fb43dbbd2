#include "dht/node.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <span>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dht/routing_table.h"
#include "dht/wire_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/subnet.h"
#include "tests/testing/sim_builders.h"

namespace kad::dht {
namespace {

using bench::SimOverlay;
using testing::ByDistance;
using testing::SmallOverlay;

storage::Record MakeRecord(SimOverlay& overlay, std::string key,
                           std::string value, uint64_t seq = 1) {
  return storage::Record{std::move(key), std::move(value), seq,
                         overlay.clock().Now() + absl::Hours(1)};
}

absl::StatusOr<PutResult> PutVia(SimOverlay& overlay, Node& node,
                                 storage::Record record) {
  return overlay.Run<PutResult>(
      [&](auto done) { node.Put(std::move(record), std::move(done)); });
}

absl::StatusOr<GetResult> GetVia(SimOverlay& overlay, Node& node,
                                 std::string key) {
  return overlay.Run<GetResult>(
      [&](auto done) { node.Get(std::move(key), std::move(done)); });
}


TEST(NodeTest, FirstNodeBootstrapsAloneAndAsync) {
  SimOverlay overlay{SmallOverlay()};
  Node& node = overlay.AddNode();
  bool called = false;
  node.Bootstrap({}, [&](absl::StatusOr<int> r) {
    called = true;
    EXPECT_TRUE(r.ok());
  });
  EXPECT_FALSE(called) << "callback ran inside the registering call";
  overlay.clock().RunNext();
  EXPECT_TRUE(called);
}

TEST(NodeTest, BootstrapFailsWhenNoSeedAnswers) {
  SimOverlay overlay{SmallOverlay()};
  Node& node = overlay.AddNode();
  auto silent = net::Endpoint::Ipv4({10, 9, 9, 9}, 1);
  auto joined = overlay.Run<int>(
      [&](auto done) { node.Bootstrap({silent}, std::move(done)); });
  EXPECT_TRUE(absl::IsUnavailable(joined.status())) << joined.status();
  EXPECT_NE(joined.status().message().find("10.9.9.9:1"), std::string::npos);
}

TEST(NodeTest, JoinedNodesFillTheirRoutingTables) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(60);
  for (size_t i = 0; i < overlay.size(); ++i) {
    EXPECT_GE(overlay.node(i).routing_table().size(), 20u) << "node " << i;
  }
}

TEST(NodeTest, FindNodeReturnsTheTrueClosestNodes) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(80);
  std::mt19937_64 gen(42);
  for (int trial = 0; trial < 10; ++trial) {
    NodeId target = NodeId::Random(gen);
    auto result = overlay.Run<LookupResult>([&](auto done) {
      overlay.node(trial).FindNode(target, std::move(done));
    });
    ASSERT_TRUE(result.ok()) << result.status();
    std::vector<NodeId> all;
    for (size_t i = 0; i < overlay.size(); ++i) {
      if (i != static_cast<size_t>(trial)) all.push_back(overlay.node(i).id());
    }
    std::sort(all.begin(), all.end(), CloserTo{target});
    ASSERT_EQ(result->closest.size(), 20u);
    for (size_t i = 0; i < 20; ++i) {
      EXPECT_EQ(result->closest[i].contact.id, all[i]) << "rank " << i;
    }
  }
}

TEST(NodeTest, LookupsCountTheBytesOfTheirRequestsAndAnswers) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(50);
  std::mt19937_64 gen(7);
  auto found = overlay.Run<LookupResult>([&](auto done) {
    overlay.node(5).FindNode(NodeId::Random(gen), std::move(done));
  });
  ASSERT_TRUE(found.ok()) << found.status();
  // A find_node request is a few dozen bytes; an answer with contacts is
  // hundreds; every request here is answered (no loss).
  EXPECT_GT(found->stats.rpcs, 0);
  EXPECT_GT(found->stats.bytes, 200u * found->stats.rpcs);
  EXPECT_LT(found->stats.bytes, 2u * 1280u * found->stats.rpcs);

  ASSERT_TRUE(PutVia(overlay, overlay.node(3), MakeRecord(overlay, "k", "v"))
                  .ok());
  auto got = GetVia(overlay, overlay.node(41), "k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_GT(got->stats.bytes, 0u);
}

TEST(NodeTest, PutStoresOnKNodesAndAnotherNodeGetsIt) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(50);
  auto put = PutVia(overlay, overlay.node(3), MakeRecord(overlay, "k", "v"));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->stored, 20);
  auto got = GetVia(overlay, overlay.node(41), "k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record.value, "v");
  // Holders return contacts beside the record, so get reaches its quorum.
  EXPECT_EQ(got->replicas, 3);
}

TEST(NodeTest, GetOfMissingKeyIsNotFound) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(30);
  auto got = GetVia(overlay, overlay.node(5), "absent");
  EXPECT_TRUE(absl::IsNotFound(got.status())) << got.status();
}

TEST(NodeTest, HigherSeqWinsWhateverTheArrivalOrder) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(40);
  ASSERT_TRUE(PutVia(overlay, overlay.node(1), MakeRecord(overlay, "k", "old", 1)).ok());
  ASSERT_TRUE(PutVia(overlay, overlay.node(2), MakeRecord(overlay, "k", "new", 2)).ok());
  auto got = GetVia(overlay, overlay.node(7), "k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->record.value, "new");
  EXPECT_EQ(got->record.seq, 2u);
  // An older put arriving later does not win, and is told so.
  auto stale = PutVia(overlay, overlay.node(9), MakeRecord(overlay, "k", "stale", 1));
  ASSERT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  EXPECT_THAT(std::string(stale.status().message()), ::testing::HasSubstr("seq 2"));
  got = GetVia(overlay, overlay.node(11), "k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->record.value, "new");
}

TEST(NodeTest, GetWritesTheNewestVersionBackToStaleReplicas) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(30);
  // Put from the node farthest from the key: a publisher among the k
  // closest would keep a 21st copy.
  const size_t publisher = ByDistance(overlay, NodeId::ForKey("k")).back();
  ASSERT_TRUE(PutVia(overlay, overlay.node(publisher),
                     MakeRecord(overlay, "k", "old", 1))
                  .ok());
  // Five replicas learn of a newer version behind everyone's back.
  std::vector<size_t> holders;
  for (size_t i = 0; i < overlay.size(); ++i) {
    if (overlay.member(i).store->Get("k", overlay.clock().Now()).ok()) {
      holders.push_back(i);
    }
  }
  ASSERT_EQ(holders.size(), 20u);
  storage::Record newer = MakeRecord(overlay, "k", "new", 2);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(overlay.member(holders[i * 3]).store->Put(newer, overlay.clock().Now()).ok());
  }
  NodeOptions options;
  options.read_only = true;
  options.get_quorum = 20;  // Hear from every replica.
  Node& client = overlay.AddNode(options);
  ASSERT_TRUE(overlay.Run<int>([&](auto done) {
    client.Bootstrap({overlay.node(0).endpoint()}, std::move(done));
  }).ok());
  auto got = GetVia(overlay, client, "k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record.value, "new");
  EXPECT_EQ(got->replicas, 5);
  EXPECT_EQ(got->repaired, 15);
  overlay.clock().RunFor(absl::Seconds(5));
  for (size_t i : holders) {
    auto held = overlay.member(i).store->Get("k", overlay.clock().Now());
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(held->value, "new") << "replica " << i << " was not repaired";
  }
}

TEST(NodeTest, RecordsExpireUnlessThePublisherRepublishes) {
  SimOverlay overlay{SmallOverlay()};
  NodeOptions options;
  options.republish_interval = absl::Minutes(10);
  overlay.JoinOneByOne(25, options);
  NodeOptions client_options;
  client_options.read_only = true;
  Node& client = overlay.AddNode(client_options);
  ASSERT_TRUE(overlay.Run<int>([&](auto done) {
    client.Bootstrap({overlay.node(0).endpoint()}, std::move(done));
  }).ok());
  auto ttl = [&] { return overlay.clock().Now() + absl::Minutes(30); };
  // A running node republishes what it put; a one-shot client cannot.
  ASSERT_TRUE(PutVia(overlay, overlay.node(3), {"kept", "v", 1, ttl()}).ok());
  ASSERT_TRUE(PutVia(overlay, client, {"dropped", "v", 1, ttl()}).ok());
  overlay.clock().RunFor(absl::Hours(2));
  auto kept = GetVia(overlay, overlay.node(9), "kept");
  EXPECT_TRUE(kept.ok()) << kept.status();
  auto dropped = GetVia(overlay, overlay.node(9), "dropped");
  EXPECT_TRUE(absl::IsNotFound(dropped.status())) << dropped.status();
  size_t held = 0;
  for (size_t i = 0; i < overlay.size(); ++i) {
    held += overlay.member(i).store->stats().records;
  }
  EXPECT_LE(held, 21u) << "expired records were not removed";
}

TEST(NodeTest, ValueSurvivesLosingAThirdOfItsReplicas) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(60);
  auto put = PutVia(overlay, overlay.node(0), MakeRecord(overlay, "k", "v"));
  ASSERT_TRUE(put.ok());
  // Detach the 7 nodes closest to the key (a third of k = 20).
  const std::vector<size_t> order = ByDistance(overlay, NodeId::ForKey("k"));
  for (int i = 0; i < 7; ++i) {
    overlay.network().Detach(overlay.node(order[i]).endpoint());
  }
  auto got = GetVia(overlay, overlay.node(order[30]), "k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record.value, "v");
}

TEST(NodeTest, LookupFallsBackToFartherContactsWhenItsSeedsAreGone) {
  dht::NodeOptions options;
  options.bucket_size = 4;  // Four seeds, a table of a few dozen entries.
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(60, options);
  Node& origin = overlay.node(0);
  const NodeId target = NodeId::ForKey("somewhere");
  ASSERT_GT(origin.routing_table().size(), 8u);
  // The four contacts the lookup would start from all go away.
  std::vector<NodeId> gone;
  for (const Contact& seed : origin.routing_table().Closest(target, 4)) {
    for (size_t i = 0; i < overlay.size(); ++i) {
      if (overlay.node(i).id() == seed.id) {
        overlay.network().Detach(overlay.node(i).endpoint());
        gone.push_back(seed.id);
      }
    }
  }
  ASSERT_EQ(gone.size(), 4u);
  auto found = overlay.Run<LookupResult>(
      [&](auto done) { origin.FindNode(target, std::move(done)); });
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_FALSE(found->closest.empty());
  for (const ContactInfo& info : found->closest) {
    EXPECT_EQ(std::find(gone.begin(), gone.end(), info.contact.id), gone.end());
  }
}

TEST(NodeTest, WorksUnderFivePercentLoss) {
  SimOverlay overlay{SmallOverlay(/*loss=*/0.05, /*seed=*/3)};
  overlay.JoinOneByOne(50);
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    std::string key = absl::StrCat("key", i);
    if (!PutVia(overlay, overlay.node(i), MakeRecord(overlay, key, "v")).ok()) continue;
    auto got = GetVia(overlay, overlay.node(49 - i), key);
    if (got.ok() && got->record.value == "v") ++ok;
  }
  EXPECT_GE(ok, 19);
}

TEST(NodeTest, ReadOnlyClientIsNotAddedToTables) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(20);
  NodeOptions options;
  options.read_only = true;
  Node& client = overlay.AddNode(options);
  auto joined = overlay.Run<int>([&](auto done) {
    client.Bootstrap({overlay.node(0).endpoint()}, std::move(done));
  });
  ASSERT_TRUE(joined.ok());
  auto put = PutVia(overlay, client, MakeRecord(overlay, "k", "v"));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->stored, 20);
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_FALSE(overlay.node(i).routing_table().Find(client.id()).has_value());
  }
}

TEST(NodeTest, RefusesOversizedRecordsWithTheLimit) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(5);
  auto put = PutVia(overlay, overlay.node(0),
                    MakeRecord(overlay, "k", std::string(1001, 'x')));
  EXPECT_TRUE(absl::IsInvalidArgument(put.status()));
  EXPECT_NE(put.status().message().find("1000"), std::string::npos);
}

TEST(NodeTest, MalformedDatagramsAreCountedAndDropped) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(10);
  Node& victim = overlay.node(4);
  std::mt19937_64 gen(7);
  auto attacker = net::Endpoint::Ipv4({10, 66, 66, 66}, 1);
  for (int i = 0; i < 500; ++i) {
    std::vector<uint8_t> junk(gen() % 300);
    for (auto& b : junk) b = static_cast<uint8_t>(gen());
    ASSERT_TRUE(
        overlay.network().Inject(attacker, victim.endpoint(), junk).ok());
  }
  overlay.clock().RunFor(absl::Seconds(1));
  EXPECT_GE(victim.stats().malformed_in, 450u);
  auto ping = overlay.Run<PingResult>([&](auto done) {
    overlay.node(0).Ping(victim.endpoint(), std::move(done));
  });
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_EQ(ping->id, victim.id());
}

TEST(NodeTest, StoreWithoutValidTokenIsRejected) {
  SimOverlay overlay{SmallOverlay()};
  overlay.JoinOneByOne(3);
  Node& target = overlay.node(1);
  Message forged{7, NodeId::ForKey("attacker"),
                 Store{MakeRecord(overlay, "k", "evil"), "bad-token"}};
  auto bytes = EncodeMessage(forged, overlay.clock().Now());
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(overlay.network()
                  .Inject(net::Endpoint::Ipv4({10, 66, 0, 1}, 1),
                          target.endpoint(), *bytes)
                  .ok());
  overlay.clock().RunFor(absl::Seconds(1));
  EXPECT_EQ(target.stats().stores_rejected, 1u);
  EXPECT_EQ(overlay.member(1).store->stats().records, 0u);
}

absl::StatusOr<StatsReport> StatsVia(SimOverlay& overlay, Node& asker,
                                     const Node& target) {
  return overlay.Run<StatsReport>(
      [&](auto done) { asker.Stats(target.endpoint(), std::move(done)); });
}

size_t MessagesOf(std::span<const uint64_t> counts, MessageType type) {
  return counts[static_cast<size_t>(type)];
}

TEST(NodeTest, StatsAreNotAnsweredOffLoopbackUnlessAllowed) {
  SimOverlay overlay{SmallOverlay()};  // Its nodes live at 10.x.y.z.
  NodeOptions elsewhere;
  elsewhere.stats_allow = {*net::Subnet::Parse("192.168.0.0/16"),
                           *net::Subnet::Parse("fd00::/8")};
  overlay.JoinOneByOne(2);
  overlay.JoinOneByOne(1, elsewhere);
  for (size_t target : {0, 2}) {
    SCOPED_TRACE(target);
    auto report = StatsVia(overlay, overlay.node(1), overlay.node(target));
    // Refused silently: an error answer would be traffic for whoever
    // forged the request.
    EXPECT_TRUE(absl::IsDeadlineExceeded(report.status())) << report.status();
    EXPECT_EQ(MessagesOf(overlay.node(target).stats().messages_out,
                         MessageType::kStatsReply),
              0u);
    EXPECT_EQ(MessagesOf(overlay.node(target).stats().messages_out,
                         MessageType::kError),
              0u);
  }
}

TEST(NodeTest, StatsAnswerAllowedSubnetsWithTheNodesCounters) {
  SimOverlay overlay{SmallOverlay()};
  NodeOptions options;
  options.stats_allow = {*net::Subnet::Parse("10.0.0.0/8")};
  overlay.JoinOneByOne(30, options);
  ASSERT_TRUE(
      PutVia(overlay, overlay.node(4), MakeRecord(overlay, "k", "v")).ok());
  ASSERT_TRUE(GetVia(overlay, overlay.node(25), "k").ok());
  // Node 0 bootstrapped alone and ran no lookup: pick a holder after it.
  size_t holder = 1;
  while (!overlay.member(holder).store->Get("k", overlay.clock().Now()).ok()) {
    ++holder;
  }
  overlay.clock().RunFor(absl::Seconds(90));
  NodeOptions client_options = options;
  client_options.read_only = true;
  Node& client = overlay.AddNode(client_options);
  const Node& target = overlay.node(holder);
  auto report = StatsVia(overlay, client, target);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->id, target.id());
  EXPECT_EQ(report->address, target.endpoint());
  const StatsReply& stats = report->stats;
  EXPECT_GE(stats.uptime_seconds, 90u);
  size_t contacts = 0;
  for (const BucketCount& bucket : stats.buckets) contacts += bucket.contacts;
  EXPECT_EQ(contacts, target.routing_table().size());
  EXPECT_EQ(stats.buckets.size(), target.routing_table().Buckets().size());
  EXPECT_EQ(stats.records, 1u);
  EXPECT_GT(stats.record_bytes, 0u);
  EXPECT_GE(stats.stores_accepted, 1u);
  EXPECT_GT(stats.datagrams_in, 0u);
  EXPECT_GT(stats.bytes_in, stats.datagrams_in);
  EXPECT_GT(MessagesOf(stats.messages_in, MessageType::kFindNode), 0u);
  EXPECT_EQ(MessagesOf(stats.messages_in, MessageType::kStats), 1u);
  EXPECT_GE(stats.lookups_started, stats.lookups_finished);
  EXPECT_GT(stats.lookups_finished, 0u);
  const LatencyPercentiles& latency = stats.lookup_latency;
  EXPECT_GT(latency.p50_us, 0u);
  EXPECT_LE(latency.p50_us, latency.p90_us);
  EXPECT_LE(latency.p90_us, latency.p99_us);
  EXPECT_LE(latency.p99_us, latency.max_us);
  // A snapshot: the node has counted the reply since.
  EXPECT_EQ(MessagesOf(target.stats().messages_out, MessageType::kStatsReply),
            1u);
  EXPECT_LE(stats.datagrams_out, target.stats().datagrams_out - 1);
}

TEST(NodeTest, ReadOnlyNodesAnswerNoStats) {
  SimOverlay overlay{SmallOverlay()};
  NodeOptions options;
  options.stats_allow = {*net::Subnet::Parse("10.0.0.0/8")};
  overlay.JoinOneByOne(2, options);
  options.read_only = true;
  Node& client = overlay.AddNode(options);
  auto report = StatsVia(overlay, overlay.node(0), client);
  EXPECT_TRUE(absl::IsDeadlineExceeded(report.status())) << report.status();
}

}  // namespace
}  // namespace kad::dht

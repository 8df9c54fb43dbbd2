#include "dht/lookup.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

Contact MakeContact(const NodeId& id, uint16_t port) {
  return Contact{id, net::Endpoint::Ipv4({10, 0, 0, 1}, port)};
}

// A static network of `n` random nodes where every node knows all others:
// replying with the k closest to the target is what a full routing table
// would do.
class StaticNetwork {
 public:
  StaticNetwork(int n, uint64_t seed) : gen_(seed) {
    for (int i = 0; i < n; ++i) {
      nodes_.push_back(MakeContact(NodeId::Random(gen_), 1000 + i));
    }
  }
  std::vector<Contact> ClosestTo(const NodeId& target, size_t k) const {
    std::vector<Contact> sorted = nodes_;
    std::sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
      return CloserTo{target}(a.id, b.id);
    });
    sorted.resize(std::min(k, sorted.size()));
    return sorted;
  }
  const std::vector<Contact>& nodes() const { return nodes_; }

 private:
  std::mt19937_64 gen_;
  std::vector<Contact> nodes_;
};

TEST(LookupTest, KeepsAtMostAlphaRequestsInFlight) {
  StaticNetwork net(100, 1);
  Lookup lookup(NodeId(), {20, 3}, net.nodes());
  int sent = 0;
  while (lookup.NextToQuery()) ++sent;
  EXPECT_EQ(sent, 3);
  EXPECT_EQ(lookup.in_flight(), 3);
}

TEST(LookupTest, AsksEachCandidateOnce) {
  StaticNetwork net(200, 2);
  std::mt19937_64 gen(3);
  NodeId target = NodeId::Random(gen);
  Lookup lookup(target, {20, 3}, net.ClosestTo(NodeId(), 20));
  absl::flat_hash_set<NodeId> asked;
  for (int guard = 0; guard < 1000 && !lookup.Done(); ++guard) {
    auto next = lookup.NextToQuery();
    ASSERT_TRUE(next.has_value());
    EXPECT_TRUE(asked.insert(next->id).second) << "asked twice";
    lookup.OnReply(next->id, net.ClosestTo(target, 20));
  }
  EXPECT_TRUE(lookup.Done());
}

TEST(LookupTest, ConvergesOnTheTrueClosestNodes) {
  StaticNetwork net(2000, 4);
  std::mt19937_64 gen(5);
  for (int trial = 0; trial < 20; ++trial) {
    NodeId target = NodeId::Random(gen);
    // Seeds: 20 random nodes, like a routing table far from the target.
    std::vector<Contact> seeds(net.nodes().begin() + trial * 20,
                               net.nodes().begin() + trial * 20 + 20);
    Lookup lookup(target, {20, 3}, seeds);
    while (!lookup.Done()) {
      auto next = lookup.NextToQuery();
      ASSERT_TRUE(next.has_value());
      // Each node knows only its own neighbourhood of 20 toward target.
      lookup.OnReply(next->id, net.ClosestTo(target, 20));
    }
    EXPECT_EQ(lookup.Closest(), net.ClosestTo(target, 20));
  }
}

TEST(LookupTest, AsksAllKClosestAfterARoundWithoutProgress) {
  StaticNetwork net(50, 6);
  NodeId target;
  std::vector<Contact> closest = net.ClosestTo(target, 20);
  Lookup lookup(target, {20, 3}, closest);
  // Three replies that teach nothing new: a round without progress.
  for (int i = 0; i < 3; ++i) {
    auto next = lookup.NextToQuery();
    ASSERT_TRUE(next.has_value());
    lookup.OnReply(next->id, {});
  }
  int burst = 0;
  while (lookup.NextToQuery()) ++burst;
  EXPECT_EQ(burst, 17);  // Every remaining one of the k closest at once.
}

TEST(LookupTest, SlowRequestFreesItsSlotButLateReplyCounts) {
  StaticNetwork net(50, 7);
  NodeId target;
  Lookup lookup(target, {20, 1}, net.ClosestTo(target, 20));
  auto first = lookup.NextToQuery();
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(lookup.NextToQuery().has_value());  // alpha = 1: slot taken.
  lookup.OnSlow(first->id);
  auto second = lookup.NextToQuery();
  ASSERT_TRUE(second.has_value());
  lookup.OnReply(first->id, {});  // Late, but it counts.
  std::vector<Contact> replied = lookup.Closest();
  ASSERT_EQ(replied.size(), 1u);
  EXPECT_EQ(replied[0].id, first->id);
}

TEST(LookupTest, WaitsForASlowRequestWhenNobodyElseAnswered) {
  StaticNetwork net(1, 11);
  Lookup lookup(NodeId(), {20, 3}, net.nodes());
  auto only = lookup.NextToQuery();
  ASSERT_TRUE(only.has_value());
  lookup.OnSlow(only->id);
  EXPECT_FALSE(lookup.Done());
  lookup.OnReply(only->id, {});
  EXPECT_TRUE(lookup.Done());
  EXPECT_EQ(lookup.Closest().size(), 1u);
}

TEST(LookupTest, ASlowMemberOfTheKClosestHoldsCompletion) {
  StaticNetwork net(6, 12);
  NodeId target;
  std::vector<Contact> all = net.ClosestTo(target, 6);
  Lookup lookup(target, {3, 3}, all);
  std::vector<Contact> asked;
  while (auto next = lookup.NextToQuery()) asked.push_back(*next);
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(asked[0].id, all[0].id);
  // The closest goes slow: its slot is free, but it is still one of the
  // k closest, so nobody farther is asked in its place.
  lookup.OnSlow(all[0].id);
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  for (const Contact& c : {all[1], all[2]}) lookup.OnReply(c.id, {});
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  EXPECT_FALSE(lookup.Done()) << "the closest of all has not answered yet";
  lookup.OnReply(all[0].id, {});  // Late, and the closest.
  ASSERT_TRUE(lookup.Done());
  std::vector<Contact> closest = lookup.Closest();
  ASSERT_EQ(closest.size(), 3u);
  EXPECT_EQ(closest[0].id, all[0].id);
}

TEST(LookupTest, ASlowMemberThatFailsMakesRoomForTheNext) {
  StaticNetwork net(6, 13);
  NodeId target;
  std::vector<Contact> all = net.ClosestTo(target, 6);
  Lookup lookup(target, {3, 3}, all);
  while (lookup.NextToQuery()) {
  }
  lookup.OnSlow(all[0].id);
  for (const Contact& c : {all[1], all[2]}) lookup.OnReply(c.id, {});
  EXPECT_FALSE(lookup.Done());
  lookup.OnFailure(all[0].id);  // Its place goes to the fourth closest.
  EXPECT_FALSE(lookup.Done());
  auto fourth = lookup.NextToQuery();
  ASSERT_TRUE(fourth.has_value());
  EXPECT_EQ(fourth->id, all[3].id);
  lookup.OnReply(all[3].id, {});
  ASSERT_TRUE(lookup.Done());
  std::vector<Contact> closest = lookup.Closest();
  ASSERT_EQ(closest.size(), 3u);
  EXPECT_EQ(closest[0].id, all[1].id);
  EXPECT_EQ(closest[2].id, all[3].id);
}

TEST(LookupTest, SeedsAddedLaterAreAskedAndKnownOnesKeepTheirState) {
  StaticNetwork net(8, 14);
  NodeId target;
  std::vector<Contact> all = net.ClosestTo(target, 8);
  Lookup lookup(target, {3, 3}, std::span(all).subspan(0, 2));
  while (auto next = lookup.NextToQuery()) lookup.OnFailure(next->id);
  ASSERT_TRUE(lookup.Done());
  EXPECT_TRUE(lookup.Closest().empty());
  EXPECT_EQ(lookup.AddSeeds(all), 6);  // The two failed ones are not new.
  EXPECT_FALSE(lookup.Done());
  std::vector<NodeId> asked;
  while (auto next = lookup.NextToQuery()) asked.push_back(next->id);
  EXPECT_EQ(asked, (std::vector<NodeId>{all[2].id, all[3].id, all[4].id}));
}

TEST(LookupTest, FailedNodesAreReplacedByTheNextClosest) {
  StaticNetwork net(60, 8);
  NodeId target;
  std::vector<Contact> all = net.ClosestTo(target, 60);
  Lookup lookup(target, {5, 5}, all);
  while (auto next = lookup.NextToQuery()) {
    if (next->id == all[0].id) {
      lookup.OnFailure(next->id);
    } else {
      lookup.OnReply(next->id, {});
    }
  }
  while (auto next = lookup.NextToQuery()) lookup.OnReply(next->id, {});
  ASSERT_TRUE(lookup.Done());
  std::vector<Contact> expected(all.begin() + 1, all.begin() + 6);
  EXPECT_EQ(lookup.Closest(), expected);
}

TEST(LookupTest, NeverQueriesSelf) {
  StaticNetwork net(10, 9);
  NodeId self = net.nodes()[0].id;
  Lookup lookup(self, {20, 20}, net.nodes(), self);
  while (auto next = lookup.NextToQuery()) EXPECT_NE(next->id, self);
}

TEST(LookupTest, EmptyLookupIsDoneAtOnce) {
  Lookup lookup(NodeId(), {20, 3}, {});
  EXPECT_TRUE(lookup.Done());
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  EXPECT_TRUE(lookup.Closest().empty());
}

TEST(LookupTest, HopsCountRoundTripsToTheClosestNode) {
  StaticNetwork net(30, 10);
  NodeId target;
  std::vector<Contact> sorted = net.ClosestTo(target, 30);
  // Seed with the farthest node only; it reveals the closest one.
  Lookup lookup(target, {1, 1}, std::vector<Contact>{sorted.back()});
  auto first = lookup.NextToQuery();
  lookup.OnReply(first->id, std::vector<Contact>{sorted.front()});
  auto second = lookup.NextToQuery();
  ASSERT_EQ(second->id, sorted.front().id);
  lookup.OnReply(second->id, {});
  EXPECT_TRUE(lookup.Done());
  EXPECT_EQ(lookup.hops(), 2);
}

}  // namespace
}  // namespace kad::dht

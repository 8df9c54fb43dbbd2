#include "dht/lookup.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "net/subnet.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

// Each node on a /24 of its own (the per-prefix limit never binds).
Contact MakeContact(const NodeId& id, uint16_t port) {
  return Contact{id, net::Endpoint::Ipv4({100, static_cast<uint8_t>(port >> 8),
                                          static_cast<uint8_t>(port), 1},
                                         port)};
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

// k = 3 and no spares: the rules on stragglers, one at a time.
LookupOptions SmallLookup(int spare = 0) {
  LookupOptions options{3, 3};
  options.spare = spare;
  return options;
}

// `n` random nodes (from `seed`), nearest to the zero id first: the
// neighbourhood the tests below look up the zero id in.
std::vector<Contact> NearestToZero(int n, uint64_t seed) {
  return StaticNetwork(n, seed).ClosestTo(NodeId(), static_cast<size_t>(n));
}

// Takes every request the lookup sends at once, answering none yet.
void SendAllowed(Lookup& lookup) {
  while (lookup.NextToQuery()) {
  }
}

TEST(LookupTest, ASlowClosestCandidateHoldsCompletion) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(6, 12);
  Lookup lookup(target, SmallLookup(), all);
  std::vector<Contact> asked;
  while (auto next = lookup.NextToQuery()) asked.push_back(*next);
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(asked[0].id, all[0].id);
  // The closest goes slow before anyone replied: it may be the closest
  // node of all, so it keeps its place and nobody is asked instead.
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

TEST(LookupTest, FinishesWithoutAStragglerOnceKOthersReplied) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(6, 15);
  Lookup lookup(target, SmallLookup(), all);
  SendAllowed(lookup);
  lookup.OnReply(all[0].id, {});
  // Slow behind a reply: its place goes to the next candidate.
  lookup.OnSlow(all[1].id);
  auto instead = lookup.NextToQuery();
  ASSERT_TRUE(instead.has_value());
  EXPECT_EQ(instead->id, all[3].id);
  lookup.OnReply(all[2].id, {});
  EXPECT_FALSE(lookup.Done());
  lookup.OnReply(all[3].id, {});
  ASSERT_TRUE(lookup.Done()) << "k = 3 replied; the straggler is not needed";
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  std::vector<Contact> closest = lookup.Closest();
  ASSERT_EQ(closest.size(), 3u);
  EXPECT_EQ(closest[0].id, all[0].id);
  EXPECT_EQ(closest[1].id, all[2].id);
  EXPECT_EQ(closest[2].id, all[3].id);
}

TEST(LookupTest, AStragglersReplyBeforeTheEndTakesItsPlaceBack) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(6, 16);
  Lookup lookup(target, SmallLookup(), all);
  SendAllowed(lookup);
  lookup.OnReply(all[0].id, {});
  lookup.OnSlow(all[1].id);
  ASSERT_EQ(lookup.NextToQuery()->id, all[3].id);
  lookup.OnReply(all[2].id, {});
  lookup.OnReply(all[1].id, {});  // Late, but before the end: it counts.
  // The k closest (0, 1, 2) have replied: done, without waiting for the
  // fourth, asked in the straggler's place.
  ASSERT_TRUE(lookup.Done());
  std::vector<Contact> closest = lookup.Closest();
  ASSERT_EQ(closest.size(), 3u);
  EXPECT_EQ(closest[1].id, all[1].id);
  EXPECT_EQ(closest[2].id, all[2].id);
}

TEST(LookupTest, AStragglerItsSpareStandsInForCostsNoRequest) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(8, 21);
  Lookup lookup(target, SmallLookup(/*spare=*/1), all);
  SendAllowed(lookup);
  lookup.OnReply(all[0].id, {});  // One of the k closest: widened.
  ASSERT_EQ(lookup.NextToQuery()->id, all[3].id) << "the spare";
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  // A straggler: the spare, already asked, stands in for it.
  lookup.OnSlow(all[1].id);
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  lookup.OnReply(all[2].id, {});
  EXPECT_FALSE(lookup.Done());
  lookup.OnReply(all[3].id, {});
  ASSERT_TRUE(lookup.Done());
  EXPECT_EQ(lookup.requests_sent(), 4);
  std::vector<Contact> closest = lookup.Closest();
  ASSERT_EQ(closest.size(), 3u);
  EXPECT_EQ(closest[1].id, all[2].id);
  EXPECT_EQ(closest[2].id, all[3].id);
}

TEST(LookupTest, AStragglerBeyondTheSparesIsReplaced) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(8, 22);
  Lookup lookup(target, SmallLookup(/*spare=*/1), all);
  SendAllowed(lookup);
  lookup.OnReply(all[0].id, {});
  ASSERT_EQ(lookup.NextToQuery()->id, all[3].id);
  lookup.OnSlow(all[1].id);
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  // A second straggler: one spare stands in for one of them only.
  lookup.OnSlow(all[2].id);
  ASSERT_EQ(lookup.NextToQuery()->id, all[4].id);
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  lookup.OnReply(all[3].id, {});
  lookup.OnReply(all[4].id, {});
  ASSERT_TRUE(lookup.Done());
  EXPECT_EQ(lookup.Closest()[2].id, all[4].id);
}

TEST(LookupTest, AsksNobodyOnceDone) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(8, 17);
  Lookup lookup(target, SmallLookup(), all);
  SendAllowed(lookup);
  for (const Contact& c : {all[0], all[1], all[2]}) lookup.OnReply(c.id, {});
  ASSERT_TRUE(lookup.Done());
  EXPECT_FALSE(lookup.NextToQuery().has_value());
  EXPECT_EQ(lookup.requests_sent(), 3);
}

TEST(LookupTest, WidensWithASpareWhenOneOfTheKClosestKnowsNobodyCloser) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(50, 18);
  LookupOptions options{20, 3};
  options.spare = 1;
  Lookup lookup(target, options, all);
  std::vector<Contact> asked;
  while (auto next = lookup.NextToQuery()) asked.push_back(*next);
  ASSERT_EQ(asked.size(), 3u);
  // One reply, from one of the k closest, with nothing closer: the
  // neighbourhood is found, no need for a whole round without progress.
  lookup.OnReply(all[0].id, {});
  while (auto next = lookup.NextToQuery()) asked.push_back(*next);
  // The other 17 of the k closest and one spare beyond them.
  ASSERT_EQ(asked.size(), 21u);
  EXPECT_EQ(asked.back().id, all[20].id);
}

TEST(LookupTest, AReplyFromAFarCandidateWithoutProgressDoesNotWiden) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(50, 19);
  // A far seed is asked first: the others are not known yet.
  const std::vector<Contact> far = {all[49]};
  Lookup lookup(target, {20, 2}, far);
  ASSERT_EQ(lookup.NextToQuery()->id, all[49].id);
  lookup.AddSeeds(std::vector<Contact>(all.begin(), all.begin() + 25));
  ASSERT_EQ(lookup.NextToQuery()->id, all[0].id);
  // The far seed, no longer among the k closest, replies with nothing:
  // half a round without progress, and no sign of the neighbourhood.
  lookup.OnReply(all[49].id, {});
  ASSERT_TRUE(lookup.NextToQuery().has_value());
  EXPECT_FALSE(lookup.NextToQuery().has_value()) << "still alpha = 2";
}

TEST(LookupTest, ASlowMemberThatFailsMakesRoomForTheNext) {
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(6, 13);
  Lookup lookup(target, SmallLookup(), all);
  SendAllowed(lookup);
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
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(8, 14);
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
  const NodeId target;
  const std::vector<Contact> all = NearestToZero(60, 8);
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

// Twenty ids of one host (one /24), all closer to the target than any
// honest node, offered to the lookup by every node it asks — the Sybil
// attack of issue 12.
struct SybilScenario {
  explicit SybilScenario(uint64_t seed) : honest(300, seed), gen(seed + 1) {
    target = NodeId::Random(gen);
    for (int i = 0; i < 20; ++i) {
      // Sharing the target's first 40 bits: closer than any honest id.
      sybils.push_back(
          {NodeId::RandomWithPrefix(target, 40, gen),
           net::Endpoint::Ipv4({203, 0, 113, static_cast<uint8_t>(i + 1)},
                               4222)});
    }
  }
  bool IsSybil(const NodeId& id) const {
    return std::ranges::any_of(sybils,
                               [&](const Contact& c) { return c.id == id; });
  }
  // Honest nodes answer with the sybils and the honest closest; sybils
  // answer with one another.
  std::vector<Contact> Answer(const NodeId& from) const {
    if (IsSybil(from)) return sybils;
    std::vector<Contact> answer = sybils;
    for (const Contact& c : honest.ClosestTo(target, 20)) answer.push_back(c);
    return answer;
  }
  int Run(Lookup& lookup) const {
    int sybils_asked = 0;
    for (int guard = 0; guard < 10'000 && !lookup.Done(); ++guard) {
      auto next = lookup.NextToQuery();
      if (!next) break;
      if (IsSybil(next->id)) ++sybils_asked;
      lookup.OnReply(next->id, Answer(next->id));
    }
    return sybils_asked;
  }

  StaticNetwork honest;
  std::mt19937_64 gen;
  NodeId target;
  std::vector<Contact> sybils;
};

TEST(LookupTest, OneSlash24OfferingTwentyCloserIdsGetsAtMostTheLimit) {
  SybilScenario scenario(11);
  LookupOptions options;  // k = 20, at most 2 per /24.
  Lookup lookup(scenario.target, options, scenario.honest.nodes());
  const int sybils_asked = scenario.Run(lookup);
  ASSERT_TRUE(lookup.Done());
  std::vector<Contact> closest = lookup.Closest();
  ASSERT_EQ(closest.size(), 20u);
  const auto sybils_returned = std::ranges::count_if(
      closest, [&](const Contact& c) { return scenario.IsSybil(c.id); });
  EXPECT_EQ(sybils_returned, kDefaultLookupMaxPerSubnet);
  EXPECT_LE(sybils_asked, kDefaultLookupMaxPerSubnet);
  // The rest of the result is the true honest closest.
  std::vector<Contact> honest_part;
  for (const Contact& c : closest) {
    if (!scenario.IsSybil(c.id)) honest_part.push_back(c);
  }
  std::vector<Contact> expected = scenario.honest.ClosestTo(
      scenario.target, 20 - kDefaultLookupMaxPerSubnet);
  EXPECT_EQ(honest_part, expected);
}

TEST(LookupTest, ExemptSubnetsAreNotLimited) {
  SybilScenario scenario(12);
  const net::Subnet exempt[] = {*net::Subnet::Parse("203.0.113.0/24")};
  LookupOptions options;
  options.prefix_limit_exempt = exempt;
  Lookup lookup(scenario.target, options, scenario.honest.nodes());
  scenario.Run(lookup);
  std::vector<Contact> closest = lookup.Closest();
  EXPECT_EQ(std::ranges::count_if(
                closest, [&](const Contact& c) { return scenario.IsSybil(c.id); }),
            20);
}

TEST(LookupTest, ACloserCandidatePushesItsPrefixsFarthestOut) {
  StaticNetwork net(50, 13);
  NodeId target;
  std::vector<Contact> sorted = net.ClosestTo(target, 50);
  // Four contacts of one /24, the closest of them learned last.
  std::vector<Contact> same_prefix;
  for (int i = 0; i < 4; ++i) {
    same_prefix.push_back(
        {sorted[i * 10].id,
         net::Endpoint::Ipv4({203, 0, 113, static_cast<uint8_t>(i + 1)}, 1)});
  }
  LookupOptions options;
  options.bucket_size = 50;
  options.parallelism = 50;
  options.max_per_subnet = 3;
  Lookup lookup(target, options,
                std::vector<Contact>(same_prefix.begin() + 1,
                                     same_prefix.end()));
  lookup.AddSeeds(std::vector<Contact>{same_prefix[0]});
  std::vector<NodeId> asked;
  while (auto next = lookup.NextToQuery()) asked.push_back(next->id);
  EXPECT_EQ(asked, (std::vector<NodeId>{same_prefix[0].id, same_prefix[1].id,
                                        same_prefix[2].id}));
}

TEST(LookupTest, RequestCapEndsALookupThatKeepsFindingCloserIds) {
  std::mt19937_64 gen(14);
  const NodeId target = NodeId::Random(gen);
  auto node = [&](int prefix, uint16_t n) {
    return MakeContact(NodeId::RandomWithPrefix(target, prefix, gen), n);
  };
  std::vector<Contact> seeds;
  for (uint16_t i = 0; i < 20; ++i) seeds.push_back(node(1, i));
  LookupOptions options;
  options.max_requests = 30;
  Lookup lookup(target, options, seeds);
  // Every answer brings 20 ids closer than any before: a chain of Sybils
  // that would keep the lookup going forever.
  int prefix = 2;
  uint16_t port = 100;
  int sent = 0;
  for (int guard = 0; guard < 1000 && !lookup.Done(); ++guard) {
    std::vector<std::optional<Contact>> batch;
    while (auto next = lookup.NextToQuery()) batch.push_back(next);
    ASSERT_FALSE(batch.empty());
    for (const auto& next : batch) {
      ++sent;
      std::vector<Contact> closer;
      for (int i = 0; i < 20; ++i) closer.push_back(node(prefix, port++));
      ++prefix;
      lookup.OnReply(next->id, closer);
    }
  }
  EXPECT_TRUE(lookup.Done());
  EXPECT_TRUE(lookup.capped());
  EXPECT_EQ(sent, 30);
  EXPECT_EQ(lookup.requests_sent(), 30);
  EXPECT_FALSE(lookup.NextToQuery().has_value());
}

TEST(LookupTest, CappedLookupWaitsForRequestsStillOut) {
  StaticNetwork net(50, 15);
  LookupOptions options;
  options.max_requests = 3;
  Lookup lookup(NodeId(), options, net.nodes());
  std::vector<Contact> out;
  while (auto next = lookup.NextToQuery()) out.push_back(*next);
  ASSERT_EQ(out.size(), 3u);
  lookup.OnReply(out[0].id, {});
  lookup.OnSlow(out[1].id);
  EXPECT_FALSE(lookup.Done());
  lookup.OnFailure(out[1].id);
  EXPECT_FALSE(lookup.Done());
  lookup.OnReply(out[2].id, {});
  EXPECT_TRUE(lookup.Done());
  EXPECT_EQ(lookup.Closest().size(), 2u);
}

}  // namespace
}  // namespace kad::dht

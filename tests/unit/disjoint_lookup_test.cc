#include "dht/disjoint_lookup.h"

#include <algorithm>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

constexpr int kK = 20;

// Each node on a /24 of its own (the per-prefix limit never binds).
Contact MakeContact(const NodeId& id, int index) {
  return Contact{id, net::Endpoint::Ipv4({100, static_cast<uint8_t>(index >> 8),
                                          static_cast<uint8_t>(index), 1},
                                         static_cast<uint16_t>(1000 + index))};
}

std::vector<Contact> SortedBy(const NodeId& target, std::vector<Contact> nodes) {
  std::sort(nodes.begin(), nodes.end(), [&](const auto& a, const auto& b) {
    return CloserTo{target}(a.id, b.id);
  });
  return nodes;
}

// A static network around one target: `honest` random nodes that know one
// another (they answer with the k honest nodes closest to the target), and
// `colluders` with ids closer to the target than any honest node, which
// answer with one another only — the drop attack of bench/adversary.h.
class PoisonedNetwork {
 public:
  PoisonedNetwork(int honest, int colluders, uint64_t seed) : gen_(seed) {
    target_ = NodeId::Random(gen_);
    for (int i = 0; i < honest; ++i) {
      honest_.push_back(MakeContact(NodeId::Random(gen_), i));
    }
    for (int i = 0; i < colluders; ++i) {
      Contact colluder =
          MakeContact(NodeId::RandomWithPrefix(target_, 40, gen_), honest + i);
      colluder_ids_.insert(colluder.id);
      colluders_.push_back(colluder);
    }
    honest_ = SortedBy(target_, honest_);
    colluders_ = SortedBy(target_, colluders_);
  }

  const NodeId& target() const { return target_; }
  bool IsColluder(const NodeId& id) const { return colluder_ids_.contains(id); }
  // The honest nodes closest to the target: where the record lives.
  std::vector<Contact> Holders() const {
    return {honest_.begin(), honest_.begin() + kK};
  }
  const Contact& FarHonest(int i) const { return honest_[honest_.size() - 1 - i]; }
  const Contact& Colluder(int i) const { return colluders_[i]; }

  // Honest nodes answer with the k honest nodes closest to the target;
  // colluder i with the k colluders from i on (wrapping), so that together
  // they name all of them: more colluders than a lookup's k closest and its
  // spare, every one closer than the holders.
  std::vector<Contact> AnswerOf(const NodeId& from) const {
    if (!IsColluder(from)) {
      return {honest_.begin(),
              honest_.begin() + std::min<size_t>(kK, honest_.size())};
    }
    const size_t first = std::find_if(colluders_.begin(), colluders_.end(),
                                      [&](const Contact& c) {
                                        return c.id == from;
                                      }) -
                         colluders_.begin();
    std::vector<Contact> answer;
    for (size_t i = 0; i < std::min<size_t>(kK, colluders_.size()); ++i) {
      answer.push_back(colluders_[(first + i) % colluders_.size()]);
    }
    return answer;
  }

  // Runs `lookup` to the end, every request answered at once, and returns
  // the nodes each path asked.
  std::vector<std::vector<NodeId>> Run(DisjointLookup& lookup) const {
    std::vector<std::vector<NodeId>> asked(lookup.paths());
    for (int guard = 0; guard < 10'000 && !lookup.Done(); ++guard) {
      std::vector<Contact> batch;
      while (auto next = lookup.NextToQuery()) batch.push_back(*next);
      if (batch.empty()) break;
      for (const Contact& contact : batch) {
        asked[*lookup.PathOf(contact.id)].push_back(contact.id);
        lookup.OnReply(contact.id, AnswerOf(contact.id));
      }
    }
    return asked;
  }

 private:
  std::mt19937_64 gen_;
  NodeId target_;
  std::vector<Contact> honest_;
  std::vector<Contact> colluders_;
  absl::flat_hash_set<NodeId> colluder_ids_;
};

LookupOptions Options() { return LookupOptions{kK, 3}; }

// Seeds, by distance, for a run whose first path starts at a colluder and
// whose second (if any) at an honest node far from the target
// (DisjointLookup gives seed i to path i mod d).
std::vector<Contact> SeedsWithOneColluder(const PoisonedNetwork& net) {
  return {net.Colluder(0), net.FarHonest(0)};
}

// Whether any node the lookup asked holds the record.
bool ReachedAHolder(const PoisonedNetwork& net,
                    const std::vector<std::vector<NodeId>>& asked) {
  absl::flat_hash_set<NodeId> holders;
  for (const Contact& holder : net.Holders()) holders.insert(holder.id);
  for (const auto& path : asked) {
    for (const NodeId& id : path) {
      if (holders.contains(id)) return true;
    }
  }
  return false;
}

TEST(DisjointLookupTest, NoNodeIsAskedByTwoPaths) {
  PoisonedNetwork net(300, 30, 1);
  std::vector<Contact> seeds(net.Holders());  // Every path's answers overlap.
  seeds.push_back(net.Colluder(0));
  DisjointLookup lookup(net.target(), Options(), 4, seeds);
  const auto asked = net.Run(lookup);
  ASSERT_TRUE(lookup.Done());
  absl::flat_hash_map<NodeId, int> asking_path;
  int total = 0;
  for (int path = 0; path < 4; ++path) {
    EXPECT_FALSE(asked[path].empty());
    for (const NodeId& id : asked[path]) {
      auto [it, inserted] = asking_path.emplace(id, path);
      EXPECT_TRUE(inserted) << "asked by paths " << it->second << " and "
                            << path;
      ++total;
    }
  }
  EXPECT_EQ(total, lookup.requests_sent());
  // The paths' results are disjoint too: each is a set of nodes it asked.
  for (int path = 0; path < 4; ++path) {
    for (const Contact& contact : lookup.path(path).Closest()) {
      EXPECT_EQ(asking_path.at(contact.id), path);
    }
  }
}

TEST(DisjointLookupTest, SharesTheSeedsOutInDistanceOrder) {
  PoisonedNetwork net(100, 0, 2);
  std::vector<Contact> seeds = net.Holders();  // Sorted by distance.
  DisjointLookup lookup(net.target(), Options(), 3, seeds);
  std::vector<std::vector<NodeId>> first(3);
  while (auto next = lookup.NextToQuery()) {
    first[*lookup.PathOf(next->id)].push_back(next->id);
  }
  for (int path = 0; path < 3; ++path) {
    ASSERT_EQ(first[path].size(), 3u);  // Alpha each.
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(first[path][i], seeds[path + 3 * i].id);
    }
  }
}

// The attack the paths defend against, on one path: colluders among the
// seeds name colluders closer than anyone honest, they name one another,
// and the lookup ends among them without asking a single holder.
// (Two colluders among the first alpha seeds name 2k - 1 colluders: more
// than the k closest and the spares a widened lookup asks at once.)
TEST(DisjointLookupTest, OnePathMeetingAColluderNeverReachesAHolder) {
  PoisonedNetwork net(300, 30, 3);
  ASSERT_LE(kK + Options().spare, 2 * kK - 1);
  const std::vector<Contact> seeds = {net.Colluder(0), net.Colluder(kK - 1),
                                      net.FarHonest(0)};
  DisjointLookup lookup(net.target(), Options(), 1, seeds);
  const auto asked = net.Run(lookup);
  EXPECT_FALSE(ReachedAHolder(net, asked));
  for (const Contact& contact : lookup.Closest()) {
    EXPECT_TRUE(net.IsColluder(contact.id));
  }
}

// The same seeds over two paths: the colluder captures the path it seeds
// (every node that path asks is a colluder), and the other path, which never
// asks a node the first one claimed, reaches the holders: a get succeeds.
TEST(DisjointLookupTest, AFullyPoisonedPathLeavesTheOtherToReachTheHolders) {
  PoisonedNetwork net(300, 30, 3);
  DisjointLookup lookup(net.target(), Options(), 2, SeedsWithOneColluder(net));
  const auto asked = net.Run(lookup);
  ASSERT_TRUE(lookup.Done());
  for (const NodeId& id : asked[0]) EXPECT_TRUE(net.IsColluder(id));
  for (const NodeId& id : asked[1]) EXPECT_FALSE(net.IsColluder(id));
  EXPECT_TRUE(ReachedAHolder(net, asked));
  // The honest path found the honest neighbourhood of the target.
  std::vector<Contact> honest = lookup.path(1).Closest();
  ASSERT_FALSE(honest.empty());
  EXPECT_EQ(honest.front().id, net.Holders().front().id);
}

TEST(DisjointLookupTest, TheRequestCapHoldsForAllPathsTogether) {
  PoisonedNetwork net(500, 0, 4);
  LookupOptions options = Options();
  options.max_requests = 31;
  std::vector<Contact> seeds;
  for (int i = 0; i < kK; ++i) seeds.push_back(net.FarHonest(i));
  DisjointLookup lookup(net.target(), options, 3, seeds);
  const auto asked = net.Run(lookup);
  EXPECT_TRUE(lookup.Done());
  EXPECT_LE(lookup.requests_sent(), 31);
  // Shares of 11, 10, 10: no path can spend another's.
  EXPECT_LE(asked[0].size(), 11u);
  EXPECT_LE(asked[1].size(), 10u);
  EXPECT_LE(asked[2].size(), 10u);
}

TEST(DisjointLookupTest, OnePathIsExactlyALookup) {
  PoisonedNetwork net(300, 10, 5);
  std::vector<Contact> seeds = SeedsWithOneColluder(net);
  for (int i = 3; i < 12; ++i) seeds.push_back(net.FarHonest(i));
  DisjointLookup disjoint(net.target(), Options(), 1, seeds);
  Lookup single(net.target(), Options(), seeds);
  for (int guard = 0; guard < 10'000 && !single.Done(); ++guard) {
    std::vector<Contact> batch;
    while (auto next = single.NextToQuery()) {
      std::optional<Contact> same = disjoint.NextToQuery();
      ASSERT_TRUE(same.has_value());
      EXPECT_EQ(same->id, next->id);
      batch.push_back(*next);
    }
    EXPECT_FALSE(disjoint.NextToQuery().has_value());
    if (batch.empty()) break;
    for (const Contact& contact : batch) {
      single.OnReply(contact.id, net.AnswerOf(contact.id));
      disjoint.OnReply(contact.id, net.AnswerOf(contact.id));
    }
  }
  EXPECT_TRUE(disjoint.Done());
  EXPECT_EQ(disjoint.Closest(), single.Closest());
  EXPECT_EQ(disjoint.hops(), single.hops());
  EXPECT_EQ(disjoint.requests_sent(), single.requests_sent());
}

// Each path keeps at most max_per_subnet of one /24; so must their union,
// or d paths would let d times as many Sybils of one host into a put.
TEST(DisjointLookupTest, TheUnionKeepsThePerPrefixLimit) {
  std::mt19937_64 gen(7);
  const NodeId target = NodeId::Random(gen);
  std::vector<Contact> sybils;
  for (uint8_t host = 1; host <= 4; ++host) {
    sybils.push_back(Contact{NodeId::RandomWithPrefix(target, 40 + host, gen),
                             net::Endpoint::Ipv4({100, 200, 0, host}, 4000)});
  }
  LookupOptions options = Options();
  options.max_per_subnet = 2;
  DisjointLookup lookup(target, options, 2, SortedBy(target, sybils));
  while (auto next = lookup.NextToQuery()) lookup.OnReply(next->id, {});
  ASSERT_TRUE(lookup.Done());
  EXPECT_EQ(lookup.path(0).Closest().size(), 2u);
  EXPECT_EQ(lookup.path(1).Closest().size(), 2u);
  EXPECT_EQ(lookup.Closest().size(), 2u);
}

TEST(DisjointLookupTest, IgnoresAnswersFromNodesNoPathAsked) {
  PoisonedNetwork net(100, 10, 6);
  DisjointLookup lookup(net.target(), Options(), 2, net.Holders());
  lookup.OnReply(net.Colluder(0).id, net.AnswerOf(net.Colluder(0).id));
  lookup.OnFailure(net.FarHonest(0).id);
  for (int path = 0; path < 2; ++path) {
    EXPECT_TRUE(lookup.path(path).Closest().empty());
  }
  // Still only the seeds to ask: the colluders it named were not learned.
  while (auto next = lookup.NextToQuery()) EXPECT_FALSE(net.IsColluder(next->id));
}

}  // namespace
}  // namespace kad::dht

#include "bench/id_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace kad::bench {
namespace {

using dht::NodeId;

// The closest `count` by brute force: sort everything by distance.
std::vector<size_t> BruteForce(const std::vector<NodeId>& ids,
                               const NodeId& target, size_t count,
                               std::optional<size_t> excluded) {
  std::vector<size_t> order;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i != excluded) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return dht::CloserTo{target}(ids[a], ids[b]);
  });
  order.resize(std::min(order.size(), count));
  return order;
}

TEST(IdIndexTest, ClosestMatchesBruteForce) {
  std::mt19937_64 gen(3);
  std::vector<NodeId> ids;
  IdIndex index;
  for (size_t i = 0; i < 2000; ++i) {
    ids.push_back(NodeId::Random(gen));
    index.Add(ids.back(), i);
  }
  for (int trial = 0; trial < 200; ++trial) {
    // Half the targets are node ids themselves (distance 0 exists).
    const NodeId target =
        trial % 2 ? NodeId::Random(gen) : ids[gen() % ids.size()];
    const size_t count = trial % 3 == 0 ? 1 : 20;
    const std::optional<size_t> excluded =
        trial % 4 == 0 ? std::optional<size_t>(gen() % ids.size())
                       : std::nullopt;
    EXPECT_EQ(index.Closest(target, count, excluded),
              BruteForce(ids, target, count, excluded))
        << "trial " << trial;
  }
}

TEST(IdIndexTest, RemovedNodesAreNotReturned) {
  std::mt19937_64 gen(4);
  IdIndex index;
  std::vector<NodeId> ids;
  for (size_t i = 0; i < 3; ++i) {
    ids.push_back(NodeId::Random(gen));
    index.Add(ids[i], i);
  }
  const std::vector<size_t> nearest = index.Closest(ids[1], 1);
  ASSERT_EQ(nearest, std::vector<size_t>{1});
  index.Remove(ids[1]);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.Closest(ids[1], 5).size(), 2u);
  EXPECT_TRUE(IdIndex().Closest(ids[0], 3).empty());
}

}  // namespace
}  // namespace kad::bench

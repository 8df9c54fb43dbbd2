// OracleJoin builds the tables of a converged overlay without a datagram,
// and the real protocol's lookups then find the true closest nodes.
#include "bench/oracle_join.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "bench/sim_overlay.h"
#include "dht/routing_table.h"

namespace kad::bench {
namespace {

constexpr int kBucketSize = 20;  // Kademlia's k, the node default.

// Returns the ids of the `count` nodes closest to `target`, by global view.
std::vector<dht::NodeId> TrueClosest(SimOverlay& overlay,
                                     const dht::NodeId& target, size_t count) {
  std::vector<dht::NodeId> ids;
  for (size_t i = 0; i < overlay.size(); ++i) ids.push_back(overlay.node(i).id());
  std::sort(ids.begin(), ids.end(), dht::CloserTo{target});
  ids.resize(std::min(count, ids.size()));
  return ids;
}

// Every link takes the same time, so no request is slow and a lookup's
// result shows the tables alone.
SimOverlayOptions EvenLinks() {
  SimOverlayOptions options;
  options.network.link.distribution = net::RttDistribution::kConstant;
  return options;
}

class OracleJoinTest : public ::testing::Test {
 protected:
  OracleJoinTest() : overlay_(EvenLinks()) {
    std::vector<dht::Node*> nodes;
    for (int i = 0; i < 2000; ++i) nodes.push_back(&overlay_.AddNode());
    OracleJoin(nodes, kBucketSize, /*seed=*/7);
  }
  SimOverlay overlay_;
};

TEST_F(OracleJoinTest, SendsNothingAndFillsEveryTable) {
  EXPECT_EQ(overlay_.network().stats().datagrams_sent, 0u);
  for (size_t i = 0; i < overlay_.size(); ++i) {
    EXPECT_GE(overlay_.node(i).routing_table().size(), size_t{kBucketSize})
        << "node " << i;
  }
}

TEST_F(OracleJoinTest, EveryTableHoldsItsOwnClosestNeighbours) {
  for (size_t i = 0; i < overlay_.size(); i += 50) {
    const dht::Node& node = overlay_.node(i);
    const std::vector<dht::NodeId> want =
        TrueClosest(overlay_, node.id(), kBucketSize + 1);  // Self first.
    for (size_t j = 1; j < want.size(); ++j) {
      EXPECT_TRUE(node.routing_table().Find(want[j]).has_value())
          << "node " << i << " lacks its neighbour " << j;
    }
  }
}

TEST_F(OracleJoinTest, LookupsFindTheTrueClosestNodes) {
  std::mt19937_64 gen(3);
  for (int i = 0; i < 50; ++i) {
    const dht::NodeId target = dht::NodeId::Random(gen);
    dht::Node& asker = overlay_.node(overlay_.RandomIndex());
    auto found = overlay_.Run<dht::LookupResult>(
        [&](auto done) { asker.FindNode(target, std::move(done)); });
    ASSERT_TRUE(found.ok()) << found.status();
    std::vector<dht::NodeId> want = TrueClosest(overlay_, target, kBucketSize);
    // The asker never lists itself among the closest it found.
    want.erase(std::remove(want.begin(), want.end(), asker.id()), want.end());
    std::vector<dht::NodeId> got;
    for (const auto& info : found->closest) got.push_back(info.contact.id);
    got.resize(std::min(got.size(), want.size()));
    EXPECT_EQ(got, want) << "lookup " << i;
  }
}

}  // namespace
}  // namespace kad::bench

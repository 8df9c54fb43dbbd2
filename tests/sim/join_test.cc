// What a join leaves in the joiner's routing table (dht/bootstrapper.h):
// every bucket farther than its nearest neighbour's that the overlay can
// fill holds a contact, although only the buckets the self-lookup left
// empty are refreshed.
#include <gtest/gtest.h>

#include <vector>

#include "bench/sim_overlay.h"
#include "dht/routing_table.h"

namespace kad::testing {
namespace {

using ::kad::bench::SimOverlay;
using ::kad::bench::SimOverlayOptions;

// Lets the joiner's refresh lookups, and the probes they cause, finish.
void Settle(SimOverlay& overlay) {
  overlay.clock().RunUntil(overlay.clock().Now() + absl::Seconds(30));
}

// Returns, per common prefix length with `self`, how many of the overlay's
// other nodes have it.
std::vector<int> NodesPerPrefixLength(SimOverlay& overlay,
                                      const dht::NodeId& self) {
  std::vector<int> count(dht::NodeId::kBits + 1, 0);
  for (size_t i = 0; i < overlay.size(); ++i) {
    const dht::NodeId& id = overlay.node(i).id();
    if (id != self) ++count[self.CommonPrefixLength(id)];
  }
  return count;
}

TEST(JoinTest, EveryFartherBucketTheOverlayCanFillHoldsAContact) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SimOverlayOptions options;
    options.seed = seed;
    SimOverlay overlay(options);
    ASSERT_EQ(overlay.GrowTo(600), 0);
    Settle(overlay);
    for (int join = 0; join < 5; ++join) {
      const net::Endpoint seed_node =
          overlay.node(overlay.RandomIndex()).endpoint();
      dht::Node& joiner = overlay.AddNode();
      ASSERT_TRUE(overlay
                      .Run<int>([&](auto done) {
                        joiner.Bootstrap({seed_node}, std::move(done));
                      })
                      .ok());
      Settle(overlay);

      const std::vector<dht::BucketInfo> buckets =
          joiner.routing_table().Buckets();
      size_t nearest = buckets.size();
      while (nearest > 0 && buckets[nearest - 1].size == 0) --nearest;
      ASSERT_GT(nearest, 1u);
      const std::vector<int> nodes =
          NodesPerPrefixLength(overlay, joiner.id());
      for (size_t i = 0; i + 1 < nearest; ++i) {
        if (nodes[i] == 0) continue;  // Nobody there to know.
        EXPECT_GT(buckets[i].size, 0u)
            << "seed " << seed << " join " << join << " bucket " << i
            << " (" << nodes[i] << " nodes in its range)";
      }
    }
  }
}

}  // namespace
}  // namespace kad::testing

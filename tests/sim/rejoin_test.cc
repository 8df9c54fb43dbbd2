// A node cut off from the overlay joins again through its seeds, paced by
// dht::RejoinPolicy rather than at every maintenance check.
#include <memory>

#include "absl/time/time.h"
#include "dht/message.h"
#include "dht/node.h"
#include "gtest/gtest.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"
#include "storage/memory_store.h"

namespace kad::dht {
namespace {

// Ping requests sent, resends of a timed-out one not counted (the cut-off
// node sends nothing else).
uint64_t PingsSent(const Node& node) {
  return node.stats().messages_out[static_cast<size_t>(MessageType::kPing)] -
         node.stats().rpc_retransmits;
}

TEST(RejoinTest, ACutOffNodeBacksOffItsRejoins) {
  net::SimClock clock;
  net::SimNetwork network(clock, net::SimNetworkOptions{});
  storage::MemoryStore seed_store;
  storage::MemoryStore store;
  auto seed_transport = network.NewTransport();
  auto transport = network.NewTransport();
  NodeOptions options;
  options.seed = 1;
  Node seed(options, *seed_transport, clock, seed_store);
  options.seed = 2;
  // Buckets refreshed every minute, so the dead seed is found out soon.
  options.bucket_refresh_interval = absl::Minutes(1);
  Node node(options, *transport, clock, store);
  seed.Start();
  node.Start();
  bool joined = false;
  node.Bootstrap({seed.endpoint()},
                 [&](absl::StatusOr<int> result) { joined = result.ok(); });
  clock.RunUntil(clock.Now() + absl::Seconds(30));
  ASSERT_TRUE(joined);
  ASSERT_EQ(node.routing_table().size(), 1u);

  network.Crash(seed.endpoint());
  clock.RunUntil(clock.Now() + absl::Minutes(10));
  ASSERT_EQ(node.routing_table().size(), 0u);  // Cut off.

  // Each rejoin pings the seed kSeedPingAttempts (3) times; the node
  // checks every minute. Unpaced, two hours would take 120 rejoins; the
  // policy's delays grow to 2.5-5 minutes.
  const uint64_t before = PingsSent(node);
  clock.RunUntil(clock.Now() + absl::Hours(2));
  const uint64_t rejoins = (PingsSent(node) - before) / 3;
  EXPECT_GE(rejoins, 120u / 5);  // It keeps trying...
  EXPECT_LE(rejoins, 120u / 2);  // ...but no more often than the policy.
}

}  // namespace
}  // namespace kad::dht

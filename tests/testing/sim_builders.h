// Builders of simulated networks and overlays for tests. There is one
// simulator (net/sim_*) and one overlay harness (bench/sim_overlay.h);
// these only fill in their options the way tests want them.
#ifndef KAD_TESTS_TESTING_SIM_BUILDERS_H_
#define KAD_TESTS_TESTING_SIM_BUILDERS_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "bench/sim_overlay.h"
#include "net/sim_network.h"

namespace kad::testing {

// The one-way delay of every datagram in SmallOverlay().
inline constexpr absl::Duration kHop = absl::Milliseconds(10);

// Returns a network on which every pair of hosts has round-trip time
// `rtt` and each datagram is lost with probability `loss`.
net::SimNetworkOptions ConstantRtt(absl::Duration rtt, double loss = 0.0);

// Returns the options of the unit tests' overlays: every datagram takes
// kHop, `loss` of them are lost, and everything random derives from
// `seed`. Grow one with SimOverlay::JoinOneByOne.
bench::SimOverlayOptions SmallOverlay(double loss = 0.0, uint64_t seed = 1);

// Returns the overlay's member indices, closest to `target` first.
std::vector<size_t> ByDistance(bench::SimOverlay& overlay,
                               const dht::NodeId& target);

}  // namespace kad::testing

#endif  // KAD_TESTS_TESTING_SIM_BUILDERS_H_

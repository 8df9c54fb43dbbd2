#include "tests/testing/sim_builders.h"

#include <algorithm>
#include <numeric>

namespace kad::testing {

net::SimNetworkOptions ConstantRtt(absl::Duration rtt, double loss) {
  net::SimNetworkOptions options;
  options.link.distribution = net::RttDistribution::kConstant;
  options.link.constant_rtt = rtt;
  options.loss = loss;
  return options;
}

bench::SimOverlayOptions SmallOverlay(double loss, uint64_t seed) {
  bench::SimOverlayOptions options;
  options.seed = seed;
  options.network = ConstantRtt(2 * kHop, loss);
  return options;
}

std::vector<size_t> ByDistance(bench::SimOverlay& overlay,
                               const dht::NodeId& target) {
  std::vector<size_t> order(overlay.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return dht::CloserTo{target}(overlay.node(a).id(), overlay.node(b).id());
  });
  return order;
}

}  // namespace kad::testing

#include "tests/testing/sim_builders.h"

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

}  // namespace kad::testing

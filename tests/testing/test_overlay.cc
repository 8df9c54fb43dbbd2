#include "tests/testing/test_overlay.h"

namespace kad::testing {

dht::Node& TestOverlay::AddNode(dht::NodeOptions options) {
  OverlayMember member;
  member.transport = network_.NewTransport();
  member.store = std::make_unique<storage::MemoryStore>();
  if (!options.seed) options.seed = seed_ * 1'000'003 + members_.size();
  member.node = std::make_unique<dht::Node>(options, *member.transport, clock_,
                                            *member.store);
  member.node->Start();
  members_.push_back(std::move(member));
  return *members_.back().node;
}

void TestOverlay::Grow(int n, dht::NodeOptions options) {
  for (int i = 0; i < n; ++i) {
    dht::Node& node = AddNode(options);
    std::vector<net::Endpoint> seeds;
    if (members_.size() > 1) seeds.push_back(members_[0].node->endpoint());
    (void)Run<int>([&](auto done) { node.Bootstrap(seeds, std::move(done)); });
  }
}

}  // namespace kad::testing

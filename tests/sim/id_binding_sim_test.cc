// Id binding between real nodes on the simulator (dht/id_binding.h): the
// simulator's 10.x hosts are made verifiable, as `kad bench lookup
// --id-binding` does, so a node's id binds to its host's address; one
// node then runs with an id of its choosing, and a node that enforces id
// binding neither admits it nor uses its answers.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "bench/sim_overlay.h"
#include "dht/id_binding.h"
#include "dht/node_id.h"
#include "tests/testing/sim_builders.h"

namespace kad::testing {
namespace {

using ::kad::bench::SimOverlay;

constexpr size_t kHonest = 40;

dht::IdBindingOptions SimBinding(bool enforce) {
  return {.enforce = enforce, .verify_private = true, .ipv4_prefix_length = 32};
}

struct Fixture {
  Fixture() : overlay(Options()) {
    EXPECT_EQ(overlay.JoinOneByOne(kHonest), 0);
    dht::NodeOptions options = Options().node;
    std::mt19937_64 gen(99);
    options.id = dht::NodeId::Random(gen);  // Not bound to its address.
    EXPECT_EQ(overlay.JoinOneByOne(1, options), 0);
    impostor = &overlay.node(overlay.size() - 1);
  }
  static bench::SimOverlayOptions Options() {
    bench::SimOverlayOptions options = SmallOverlay(0.0, 21);
    options.node.id_binding = SimBinding(false);
    return options;
  }
  // Adds a node with id binding `enforce`d and joins it.
  dht::Node& Joined(bool enforce) {
    dht::NodeOptions options = Options().node;
    options.id_binding = SimBinding(enforce);
    EXPECT_EQ(overlay.JoinOneByOne(1, options), 0);
    return overlay.node(overlay.size() - 1);
  }

  SimOverlay overlay;
  dht::Node* impostor = nullptr;
};

TEST(IdBindingSimTest, NodesOnVerifiableAddressesTakeBoundIds) {
  Fixture f;
  for (size_t i = 0; i < kHonest; ++i) {
    dht::Node& node = f.overlay.node(i);
    EXPECT_TRUE(node.id_bound()) << i;
    EXPECT_EQ(node.public_address(), node.endpoint().WithPort(0));
  }
  EXPECT_FALSE(f.impostor->id_bound());
}

TEST(IdBindingSimTest, EnforcingNodeNeitherAdmitsNorUsesAnUnboundId) {
  Fixture f;
  dht::Node& lenient = f.Joined(false);
  dht::Node& strict = f.Joined(true);
  const dht::NodeId target = f.impostor->id();
  for (dht::Node* node : {&lenient, &strict}) {
    absl::StatusOr<dht::LookupResult> found = f.overlay.Run<dht::LookupResult>(
        [&](auto done) { node->FindNode(target, std::move(done)); });
    ASSERT_TRUE(found.ok()) << found.status();
    bool listed = false;
    for (const dht::ContactInfo& c : found->closest) {
      listed |= c.contact.id == target;
    }
    EXPECT_EQ(listed, node == &lenient);
  }
  const net::Endpoint at = f.impostor->endpoint();
  absl::StatusOr<dht::PingResult> pinged = f.overlay.Run<dht::PingResult>(
      [&](auto done) { strict.Ping(at, std::move(done)); });
  EXPECT_EQ(pinged.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(strict.routing_table().Find(target).has_value());
  pinged = f.overlay.Run<dht::PingResult>(
      [&](auto done) { lenient.Ping(at, std::move(done)); });
  EXPECT_TRUE(pinged.ok()) << pinged.status();
  EXPECT_TRUE(lenient.routing_table().Find(target).has_value());
}

}  // namespace
}  // namespace kad::testing

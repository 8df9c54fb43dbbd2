// Sybils on the simulator: twenty malicious ids placed next to one key, all
// behind one prefix, try to capture it (issue 12). Honest nodes are the
// simulator's IPv4 hosts, counted as distinct hosts; the Sybils are its
// IPv6 hosts, which all share one /64 (net/sim_network.h) — the
// simulator's way to put many ids behind one prefix. (A /24 of IPv4 Sybils
// offering a lookup 20 closer ids is tested on the Lookup itself, in
// tests/unit/lookup_test.cc.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/adversary.h"
#include "bench/sim_overlay.h"
#include "dht/node_id.h"
#include "net/subnet.h"
#include "tests/testing/sim_builders.h"

namespace kad::testing {
namespace {

using ::kad::bench::Adversaries;
using ::kad::bench::AdversaryOptions;
using ::kad::bench::AttackMode;
using ::kad::bench::SimOverlay;

constexpr size_t kHonest = 150;
constexpr size_t kSybils = 20;
constexpr char kKey[] = "eclipsed";

struct Outcome {
  int honest_holders = 0;  // Honest nodes that hold the record after put.
  int sybils_in_result = 0;
  bool got_value = false;
  uint64_t stores_dropped = 0;
};

// Builds kHonest honest nodes, then kSybils Sybils with ids next to kKey's
// id on IPv6 hosts of one /64; puts kKey from one honest node and gets it
// from another. `exempt_sybils` lifts the per-prefix limits for the Sybils'
// /64 on every honest node: the attack without the defence.
Outcome EclipseOneKey(bool exempt_sybils) {
  bench::SimOverlayOptions options = SmallOverlay(0.0, 12);
  if (exempt_sybils) {
    options.node.prefix_limit_exempt.push_back(
        *net::Subnet::Parse("fd6b:6164::/64"));
  }
  SimOverlay overlay(options);
  AdversaryOptions sybils;
  sybils.fraction = 1.0;
  sybils.attack = AttackMode::kEclipse;
  sybils.sybils_per_key = kSybils;
  sybils.shared_prefix = true;
  sybils.honest_first = kHonest;
  const dht::NodeId key_id = dht::NodeId::ForKey(kKey);
  Adversaries crew(sybils, 5, overlay.clock(), {key_id});
  overlay.set_hook(&crew);
  EXPECT_EQ(overlay.JoinOneByOne(kHonest), 0);
  EXPECT_EQ(overlay.JoinOneByOne(kSybils), 0);
  EXPECT_EQ(crew.count(), kSybils);
  crew.Activate();

  Outcome out;
  dht::Node& publisher = overlay.node(3);
  storage::Record record{kKey, "honest value", 1,
                         overlay.clock().Now() + absl::Hours(24)};
  auto put = overlay.Run<dht::PutResult>(
      [&](auto done) { publisher.Put(record, std::move(done)); });
  EXPECT_TRUE(put.ok()) << put.status();
  for (size_t i = 0; i < kHonest; ++i) {
    if (overlay.member(i).store->Get(kKey, overlay.clock().Now()).ok()) {
      ++out.honest_holders;
    }
  }
  auto found = overlay.Run<dht::LookupResult>(
      [&](auto done) { overlay.node(7).FindNode(key_id, std::move(done)); });
  if (found.ok()) {
    for (const auto& contact : found->closest) {
      if (contact.contact.endpoint.family() == net::Family::kIpv6) {
        ++out.sybils_in_result;
      }
    }
  }
  auto get = overlay.Run<dht::GetResult>(
      [&](auto done) { overlay.node(kHonest - 1).Get(kKey, std::move(done)); });
  out.got_value = get.ok() && get->record.value == "honest value";
  out.stores_dropped = crew.stores_dropped();
  return out;
}

TEST(SybilTest, TwentySybilsOfOnePrefixNextToAKeyCannotCaptureIt) {
  const Outcome out = EclipseOneKey(/*exempt_sybils=*/false);
  EXPECT_GE(out.honest_holders, 18);
  EXPECT_LE(out.sybils_in_result, dht::kDefaultLookupMaxPerSubnet);
  EXPECT_TRUE(out.got_value);
}

// The same attack with the limits lifted for the Sybils' prefix: they
// capture the key's neighbourhood, which shows the test above measures
// the defence and not a harmless attack.
TEST(SybilTest, WithoutPrefixLimitsTheSameSybilsCaptureTheKey) {
  const Outcome out = EclipseOneKey(/*exempt_sybils=*/true);
  EXPECT_GT(out.sybils_in_result, 10);
  EXPECT_LT(out.honest_holders, 10);
  EXPECT_GT(out.stores_dropped, 10u);
}

}  // namespace
}  // namespace kad::testing

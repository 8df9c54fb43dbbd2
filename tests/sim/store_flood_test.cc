// One source prefix cannot fill a node's store (dht/store_admission.h):
// an attacker putting hundreds of open records gets at most its share of
// the target's store, and an honest host's puts afterwards still land on
// the target. The control, without store admission, shows the attacker
// filling the store and the honest puts refused there.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "dht/message.h"
#include "dht/node.h"
#include "gtest/gtest.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"
#include "storage/memory_store.h"
#include "tests/testing/sim_builders.h"

namespace kad::dht {
namespace {

// The target's store quota, and so a quarter of it per source prefix.
constexpr size_t kQuotaRecords = 200;
constexpr int kAttackPuts = 300;
constexpr int kHonestPuts = 20;

struct Host {
  std::unique_ptr<net::SimTransport> transport;
  std::unique_ptr<storage::MemoryStore> store;
  std::unique_ptr<Node> node;
};

struct Outcome {
  size_t attacker_held = 0;  // Attack records on the target.
  int honest_held = 0;       // Honest records on the target.
  int honest_ok = 0;         // Honest puts that reported success.
  uint64_t refused_source_quota = 0;
  uint64_t refused_store_full = 0;
};

class StoreFloodTest : public ::testing::Test {
 protected:
  StoreFloodTest()
      : network_(clock_, testing::ConstantRtt(absl::Milliseconds(20))) {}

  Node& AddNode(NodeOptions options, size_t max_records,
                net::Family family = net::Family::kIpv4) {
    Host host;
    host.transport = network_.NewTransport(family);
    host.store = std::make_unique<storage::MemoryStore>(
        storage::MemoryStoreOptions{.max_records = max_records});
    options.seed = hosts_.size() + 1;
    host.node = std::make_unique<Node>(options, *host.transport, clock_,
                                       *host.store);
    host.node->Start();
    hosts_.push_back(std::move(host));
    return *hosts_.back().node;
  }

  void Join(Node& node, const Node& through) {
    std::optional<absl::StatusOr<int>> joined;
    node.Bootstrap({through.endpoint()},
                   [&](absl::StatusOr<int> r) { joined = r; });
    clock_.RunFor(absl::Seconds(5));
    ASSERT_TRUE(joined && joined->ok());
  }

  // Puts open records "<prefix><i>" for i < count from `node`, twenty at
  // a time; returns how many puts succeeded.
  int PutMany(Node& node, const std::string& prefix, int count) {
    int ok = 0;
    for (int i = 0; i < count; ++i) {
      storage::Record record{prefix + std::to_string(i), std::string(100, 'x'),
                             1, clock_.Now() + absl::Hours(1)};
      node.Put(record, [&ok](absl::StatusOr<PutResult> r) { ok += r.ok(); });
      if (i % 20 == 19) clock_.RunFor(absl::Seconds(2));
    }
    clock_.RunFor(absl::Seconds(5));
    return ok;
  }

  Outcome Run(bool admission_on) {
    NodeOptions options;
    if (admission_on) {
      options.store_admission->max_records = kQuotaRecords;
    } else {
      options.store_admission = std::nullopt;
    }
    Node& target = AddNode(options, kQuotaRecords);
    Node& honest = AddNode(NodeOptions{}, 1'000'000);
    // The attacker's own prefix: an IPv6 /64 (the others share 10.0.0.0/24).
    Node& attacker = AddNode(NodeOptions{}, 1'000'000, net::Family::kIpv6);
    Join(honest, target);
    Join(attacker, target);

    PutMany(attacker, "attack-", kAttackPuts);
    Outcome outcome;
    outcome.honest_ok = PutMany(honest, "honest-", kHonestPuts);
    const storage::MemoryStore& store = *hosts_[0].store;
    for (int i = 0; i < kAttackPuts; ++i) {
      outcome.attacker_held +=
          store.Get("attack-" + std::to_string(i), clock_.Now()).ok();
    }
    for (int i = 0; i < kHonestPuts; ++i) {
      outcome.honest_held +=
          store.Get("honest-" + std::to_string(i), clock_.Now()).ok();
    }
    const auto& refused = target.stats().stores_refused;
    outcome.refused_source_quota =
        refused[static_cast<size_t>(ErrorCode::kSourceQuota)];
    outcome.refused_store_full =
        refused[static_cast<size_t>(ErrorCode::kStoreFull)];
    return outcome;
  }

  net::SimClock clock_;
  net::SimNetwork network_;
  std::vector<Host> hosts_;
};

TEST_F(StoreFloodTest, OnePrefixGetsItsShareAndOthersStillStore) {
  Outcome outcome = Run(/*admission_on=*/true);
  EXPECT_EQ(outcome.attacker_held, kQuotaRecords / 4);
  EXPECT_EQ(outcome.refused_source_quota,
            static_cast<uint64_t>(kAttackPuts) - kQuotaRecords / 4);
  EXPECT_EQ(outcome.honest_held, kHonestPuts);
  EXPECT_EQ(outcome.honest_ok, kHonestPuts);
  EXPECT_EQ(outcome.refused_store_full, 0u);
}

TEST_F(StoreFloodTest, ControlWithoutAdmissionTheAttackerFillsTheStore) {
  Outcome outcome = Run(/*admission_on=*/false);
  EXPECT_EQ(outcome.attacker_held, kQuotaRecords);
  EXPECT_EQ(outcome.honest_held, 0);
  EXPECT_EQ(outcome.refused_store_full,
            static_cast<uint64_t>(kAttackPuts) - kQuotaRecords + kHonestPuts);
}

}  // namespace
}  // namespace kad::dht

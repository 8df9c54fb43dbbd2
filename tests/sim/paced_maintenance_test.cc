// Record maintenance is paced (dht/replication_driver.h): a node holding
// many records that meets a new neighbour hands them off at the pace,
// one exchange at a time, and charges the neighbour no failures — beside
// a control run without the pace.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
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

constexpr int kRecords = 5'000;

struct Outcome {
  uint64_t most_datagrams_in_a_second = 0;
  size_t handed_off = 0;    // Records the newcomer holds at the end.
  uint64_t rpc_failures = 0;
  bool newcomer_in_table = false;
};

Outcome HandOff(std::optional<RateLimit> pace) {
  net::SimClock clock;
  net::SimNetwork network(clock, testing::ConstantRtt(absl::Milliseconds(20)));
  auto holder_transport = network.NewTransport();
  auto newcomer_transport = network.NewTransport();
  storage::MemoryStore holder_store;
  storage::MemoryStore newcomer_store;
  for (int i = 0; i < kRecords; ++i) {
    storage::Record record{absl::StrCat("key-", i), "value", 1,
                           clock.Now() + absl::Hours(24)};
    EXPECT_TRUE(holder_store.Put(record, clock.Now()).ok());
  }
  NodeOptions options;
  options.replicate_interval = absl::InfiniteDuration();  // Hand-offs only.
  options.replication_pace = pace;
  options.seed = 1;
  Node holder(options, *holder_transport, clock, holder_store);
  options.seed = 2;
  Node newcomer(options, *newcomer_transport, clock, newcomer_store);
  holder.Start();
  newcomer.Start();
  newcomer.Bootstrap({holder.endpoint()}, [](absl::StatusOr<int>) {});

  Outcome outcome;
  uint64_t last = 0;
  for (int second = 0; second < 180; ++second) {
    clock.RunFor(absl::Seconds(1));
    const uint64_t sent = holder.stats().datagrams_out;
    outcome.most_datagrams_in_a_second =
        std::max(outcome.most_datagrams_in_a_second, sent - last);
    last = sent;
  }
  outcome.handed_off = newcomer_store.stats().records;
  outcome.rpc_failures = holder.stats().rpc_failures;
  outcome.newcomer_in_table =
      holder.routing_table().Find(newcomer.id()).has_value();
  return outcome;
}

TEST(PacedMaintenanceTest, AHandOffOfThousandsOfRecordsKeepsToThePace) {
  Outcome outcome = HandOff(RateLimit{100, 100});
  EXPECT_EQ(outcome.handed_off, static_cast<size_t>(kRecords));
  // 100 a second and a burst of 100, plus the odd ping or lookup answer.
  EXPECT_LE(outcome.most_datagrams_in_a_second, 220u);
  EXPECT_EQ(outcome.rpc_failures, 0u);
  EXPECT_TRUE(outcome.newcomer_in_table);
}

TEST(PacedMaintenanceTest, ControlWithoutPaceIsBoundOnlyByRoundTrips) {
  // One exchange per peer at a time still holds, so the rate is bound by
  // the round trip (20 ms here) rather than by the pace.
  Outcome outcome = HandOff(std::nullopt);
  EXPECT_EQ(outcome.handed_off, static_cast<size_t>(kRecords));
  EXPECT_GT(outcome.most_datagrams_in_a_second, 500u);
}

}  // namespace
}  // namespace kad::dht

// LookupDriver on the simulator: a driver with its own routing table and
// RPC client looks up ids among real nodes that know one another.
#include "dht/lookup_driver.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "dht/latency_window.h"
#include "dht/node.h"
#include "dht/requester.h"
#include "dht/routing_table.h"
#include "dht/rpc_client.h"
#include "dht/split_mix64.h"
#include "dht/wire_codec.h"
#include "gtest/gtest.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"
#include "net/subnet.h"
#include "storage/memory_store.h"

namespace kad::dht {
namespace {

constexpr int kServers = 60;
constexpr int kBucketSize = 20;

// The simulator's IPv4 hosts (10.a.b.c, 254 to a /24) count as distinct
// hosts, as in every simulated overlay (bench/sim_overlay.h).
const net::Subnet kSimHosts[] = {*net::Subnet::Parse("10.0.0.0/8")};

RoutingTableOptions TableOptions() {
  RoutingTableOptions options;
  options.prefix_limit_exempt = kSimHosts;
  return options;
}

LookupOptions DriverOptions() {
  LookupOptions options{kBucketSize, 3};
  options.prefix_limit_exempt = kSimHosts;
  return options;
}

struct Server {
  std::unique_ptr<net::SimTransport> transport;
  std::unique_ptr<storage::MemoryStore> store;
  std::unique_ptr<Node> node;
};

// The node under test's side: everything a LookupDriver runs on.
struct Driven {
  // The driver and requester keep a reference to `self`: this member,
  // never the argument.
  Driven(net::SimNetwork& network, net::SimClock& clock, const NodeId& id)
      : self(id),
        transport(network.NewTransport()),
        table(self, TableOptions(), clock.Now()),
        gen(7),
        rpc(RpcOptions{{absl::Seconds(1), absl::Milliseconds(50),
                        absl::Seconds(2)},
                       3,
                       self},
            *transport, clock, stats, gen),
        requester(self, rpc, table, clock),
        driver(std::make_unique<LookupDriver>(
            DriverOptions(), self, table, requester, clock,
            stats, latency)) {
    transport->SetReceiveHandler(
        [this, &clock](const net::Endpoint& from,
                       std::span<const uint8_t> bytes) {
          auto message = DecodeMessage(bytes, clock.Now());
          if (message.ok() && !message->is_request()) {
            rpc.OnResponse(from, *std::move(message), bytes.size());
          }
        });
  }

  NodeId self;
  std::unique_ptr<net::SimTransport> transport;
  NodeStats stats;
  RoutingTable table;
  SplitMix64 gen;
  RpcClient rpc;
  Requester requester;
  LatencyWindow latency;
  std::unique_ptr<LookupDriver> driver;
};

class LookupDriverTest : public ::testing::Test {
 protected:
  LookupDriverTest() : network_(clock_, net::SimNetworkOptions{}) {
    SplitMix64 gen(1);
    std::vector<Contact> everyone;
    for (int i = 0; i < kServers; ++i) {
      Server server;
      server.transport = network_.NewTransport();
      server.store = std::make_unique<storage::MemoryStore>();
      NodeOptions options;
      options.seed = 100 + i;
      options.prefix_limit_exempt.push_back(kSimHosts[0]);
      server.node = std::make_unique<Node>(options, *server.transport, clock_,
                                           *server.store);
      server.node->Start();
      everyone.push_back({server.node->id(), server.node->endpoint()});
      servers_.push_back(std::move(server));
    }
    for (Server& server : servers_) server.node->AdoptContacts(everyone);
    everyone_ = everyone;
    driven_ = std::make_unique<Driven>(network_, clock_, NodeId::Random(gen));
  }

  // Returns the `count` servers closest to `target`, ascending.
  std::vector<Contact> TrueClosest(const NodeId& target, size_t count) const {
    std::vector<Contact> sorted = everyone_;
    std::sort(sorted.begin(), sorted.end(),
              [&](const Contact& a, const Contact& b) {
                return CloserTo{target}(a.id, b.id);
              });
    sorted.resize(std::min(count, sorted.size()));
    return sorted;
  }

  void Know(const Contact& contact) {
    driven_->table.OnResponse(contact, clock_.Now());
  }

  // Makes the table's k closest to `target` crashed hosts.
  void KnowDeadHostsNear(const NodeId& target, SplitMix64& gen) {
    for (int i = 0; i < kBucketSize; ++i) {
      auto dead = network_.NewTransport();
      const net::Endpoint endpoint = dead->local_endpoint();
      network_.Crash(endpoint);
      Know({NodeId::RandomWithPrefix(target, 40, gen), endpoint});
    }
  }

  net::SimClock clock_;
  net::SimNetwork network_;
  std::vector<Server> servers_;
  std::vector<Contact> everyone_;
  std::unique_ptr<Driven> driven_;
};

TEST_F(LookupDriverTest, FindsTheTrueKClosestFromAFewSeeds) {
  for (int i = 0; i < 3; ++i) Know(everyone_[i]);
  SplitMix64 gen(5);
  const NodeId target = NodeId::Random(gen);
  std::optional<std::vector<Contact>> found;
  driven_->driver->Start(target, std::nullopt, [&](LookupRun& run) {
    found = run.lookup.Closest();
  });
  clock_.RunUntilIdle(absl::Minutes(5));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, TrueClosest(target, kBucketSize));
  EXPECT_EQ(driven_->stats.lookups_started, 1u);
  EXPECT_EQ(driven_->stats.lookups_finished, 1u);
  EXPECT_EQ(driven_->driver->running(), 0u);
}

TEST_F(LookupDriverTest, ANarrowRunConvergesOnItsWidthWithFewerRequests) {
  for (int i = 0; i < 3; ++i) Know(everyone_[i]);
  SplitMix64 gen(5);
  const NodeId target = NodeId::Random(gen);
  std::optional<std::vector<Contact>> wide, narrow;
  int wide_requests = 0, narrow_requests = 0;
  driven_->driver->Start(target, std::nullopt, [&](LookupRun& run) {
    wide = run.lookup.Closest();
    wide_requests = run.lookup.requests_sent();
  });
  clock_.RunUntilIdle(absl::Minutes(5));
  Driven fresh(network_, clock_, NodeId::Random(gen));
  for (int i = 0; i < 3; ++i)
    fresh.table.OnResponse(everyone_[i], clock_.Now());
  fresh.driver->Start(
      target, std::nullopt,
      [&](LookupRun& run) {
        narrow = run.lookup.Closest();
        narrow_requests = run.lookup.requests_sent();
      },
      /*satisfied=*/nullptr, /*paths=*/1, /*width=*/5);
  clock_.RunUntilIdle(absl::Minutes(5));
  ASSERT_TRUE(wide.has_value() && narrow.has_value());
  EXPECT_EQ(*wide, TrueClosest(target, kBucketSize));
  // Five answered nodes, not necessarily the true five closest: a narrow
  // run explores less.
  EXPECT_EQ(narrow->size(), 5u);
  EXPECT_LT(narrow_requests, wide_requests);
}

TEST_F(LookupDriverTest, AnUpkeepRunWaitsForStragglersInsteadOfAskingAgain) {
  // The simulator's RTTs are long-tailed (log-normal, sigma 0.6): some of a
  // lookup's requests pass the slow mark. An interactive run sends each of
  // those again and asks the next candidate; an upkeep run waits for its
  // answer, and finds the true k closest (no loss here; the interactive
  // run, with this seed, ends on the 8 of them that answered in time).
  SplitMix64 gen(11);
  const NodeId target = NodeId::Random(gen);
  struct Outcome {
    std::vector<Contact> closest;
    uint64_t retransmits = 0;
    uint64_t timeouts = 0;
  };
  auto look_up = [&](LookupDriver::Urgency urgency) {
    Driven driven(network_, clock_, NodeId::Random(gen));
    for (int i = 0; i < 3; ++i) {
      driven.table.OnResponse(everyone_[i], clock_.Now());
    }
    Outcome outcome;
    driven.driver->Start(
        target, std::nullopt,
        [&](LookupRun& run) { outcome.closest = run.lookup.Closest(); },
        /*satisfied=*/nullptr, /*paths=*/1, /*width=*/0, urgency);
    clock_.RunUntilIdle(absl::Minutes(5));
    outcome.retransmits = driven.stats.rpc_retransmits;
    outcome.timeouts = driven.stats.rpc_timeouts;
    return outcome;
  };
  const Outcome interactive = look_up(LookupDriver::Urgency::kInteractive);
  const Outcome upkeep = look_up(LookupDriver::Urgency::kUpkeep);
  EXPECT_EQ(upkeep.closest, TrueClosest(target, kBucketSize));
  // Copies sent at the slow mark, beyond any sent at a timeout (a
  // straggler may still outlast its RTO; nothing is lost, so no request
  // times out twice).
  EXPECT_GT(interactive.retransmits, interactive.timeouts);
  EXPECT_EQ(upkeep.retransmits, upkeep.timeouts);
}

TEST_F(LookupDriverTest, FinishRunsFromTheLoopNeverInsideStart) {
  int finished = 0;
  driven_->driver->Start(everyone_[0].id, std::nullopt, [&](LookupRun& run) {
    ++finished;
    EXPECT_TRUE(run.lookup.Closest().empty());  // Nobody to ask.
  });
  EXPECT_EQ(finished, 0);
  clock_.RunUntilIdle(absl::Minutes(1));
  EXPECT_EQ(finished, 1);
}

TEST_F(LookupDriverTest, SatisfiedEndsTheRunAndLateAnswersAreIgnored) {
  for (const Contact& contact : everyone_) Know(contact);
  int finished = 0;
  int requests_when_done = 0;
  driven_->driver->Start(
      everyone_[0].id, std::nullopt,
      [&](LookupRun& run) {
        ++finished;
        requests_when_done = run.lookup.requests_sent();
      },
      [](const LookupRun& run) { return run.lookup.Closest().size() >= 1; });
  clock_.RunUntilIdle(absl::Minutes(5));
  EXPECT_EQ(finished, 1);
  // Ended on the first answer, with the other first-round requests still
  // out: their answers arrived later and changed nothing.
  EXPECT_EQ(requests_when_done, 3);
  EXPECT_EQ(driven_->driver->running(), 0u);
}

TEST_F(LookupDriverTest, WidensToEveryContactWhenTheSeedsAllFail) {
  SplitMix64 gen(9);
  const NodeId target = NodeId::Random(gen);
  // The table's k closest to the target are dead hosts; a live server is
  // known too, farther away.
  KnowDeadHostsNear(target, gen);
  Know(TrueClosest(driven_->self, kServers).back());
  std::vector<Contact> found;
  bool widened = false;
  driven_->driver->Start(target, std::nullopt, [&](LookupRun& run) {
    found = run.lookup.Closest();
    widened = run.widened;
  });
  clock_.RunUntilIdle(absl::Minutes(10));
  EXPECT_TRUE(widened);
  EXPECT_EQ(found, TrueClosest(target, kBucketSize));
}

TEST_F(LookupDriverTest, FindValueGathersRecordsAndWriteTokens) {
  for (int i = 0; i < 3; ++i) Know(everyone_[i]);
  const std::string key = "a key";
  const NodeId key_id = NodeId::ForKey(key);
  const storage::Record record{key, "a value", 1,
                               clock_.Now() + absl::Hours(1)};
  // The two servers closest to the key hold the record.
  std::vector<Contact> holders = TrueClosest(key_id, 2);
  for (Server& server : servers_) {
    if (server.node->id() == holders[0].id ||
        server.node->id() == holders[1].id) {
      ASSERT_TRUE(server.store->Put(record, clock_.Now()).ok());
    }
  }
  std::vector<storage::Record> values;
  size_t tokens = 0;
  size_t replied = 0;
  driven_->driver->Start(key_id, key, [&](LookupRun& run) {
    for (const auto& [contact, value] : run.values) values.push_back(value);
    tokens = run.tokens.size();
    replied = run.lookup.Closest().size();
  });
  clock_.RunUntilIdle(absl::Minutes(5));
  ASSERT_EQ(values.size(), 2u);
  for (const storage::Record& value : values) {
    // The expiry crosses the wire as a TTL, so only to the second.
    EXPECT_EQ(value.value, record.value);
    EXPECT_EQ(value.seq, record.seq);
  }
  EXPECT_GE(tokens, replied);  // Every node that answered gave a token.
}

TEST_F(LookupDriverTest, DestroyingTheNodeSideDropsRunningLookupsUncalled) {
  for (int i = 0; i < 3; ++i) Know(everyone_[i]);
  bool finished = false;
  driven_->driver->Start(everyone_[5].id, std::nullopt,
                         [&](LookupRun&) { finished = true; });
  clock_.RunUntil(clock_.Now() + absl::Milliseconds(1));  // Requests out.
  // The driver goes first, then the RPC client with its pending requests,
  // as in a node.
  driven_.reset();
  clock_.RunUntilIdle(absl::Minutes(5));  // Answers arrive for nobody.
  EXPECT_FALSE(finished);
}

TEST_F(LookupDriverTest, EveryFinishedLookupIsTimed) {
  for (int i = 0; i < 3; ++i) Know(everyone_[i]);
  for (int i = 0; i < 4; ++i) {
    driven_->driver->Start(everyone_[10 + i].id, std::nullopt,
                           [](LookupRun&) {});
  }
  clock_.RunUntilIdle(absl::Minutes(5));
  EXPECT_EQ(driven_->latency.size(), 4u);
  EXPECT_EQ(driven_->stats.lookups_finished, 4u);
}

TEST_F(LookupDriverTest, DeadlineEndsALookupWithWhatItHas) {
  LookupOptions options = DriverOptions();
  options.deadline = absl::Milliseconds(1500);
  driven_->driver = std::make_unique<LookupDriver>(
      options, driven_->self, driven_->table, driven_->requester, clock_,
      driven_->stats, driven_->latency);
  SplitMix64 gen(10);
  const NodeId target = NodeId::Random(gen);
  // The k closest known are dead: each costs timeouts and resends, far
  // past the deadline, before it fails.
  KnowDeadHostsNear(target, gen);
  const absl::Time started = clock_.Now();
  std::optional<absl::Time> ended;
  bool timed_out = false;
  driven_->driver->Start(target, std::nullopt, [&](LookupRun& run) {
    ended = clock_.Now();
    timed_out = run.timed_out;
  });
  clock_.RunUntilIdle(absl::Minutes(10));
  ASSERT_TRUE(ended.has_value());
  EXPECT_TRUE(timed_out);
  // Ended at the first timeout after the deadline: the RPC timeout
  // starts at 1 s and backs off, so within the next 2 s (max timeout).
  EXPECT_GE(*ended - started, absl::Milliseconds(1500));
  EXPECT_LE(*ended - started, absl::Milliseconds(1500) + absl::Seconds(2));
  // Without the deadline, the dead contacts would hold it until each had
  // timed out three times.
  EXPECT_EQ(driven_->driver->running(), 0u);
}

TEST_F(LookupDriverTest, ALookupThatEndsInTimeIsNotMarkedTimedOut) {
  for (int i = 0; i < 3; ++i) Know(everyone_[i]);
  bool timed_out = true;
  driven_->driver->Start(everyone_[20].id, std::nullopt,
                         [&](LookupRun& run) { timed_out = run.timed_out; });
  clock_.RunUntilIdle(absl::Minutes(5));
  EXPECT_FALSE(timed_out);
}

}  // namespace
}  // namespace kad::dht

// What one stranger can make a node do (dht/request_gate.h), each attack
// beside a control run with the defence off: a flood from one source is
// answered only up to its limit while other hosts are still served, and
// requests with a forged source make the node send the victim no more than
// the reply budget.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "dht/message.h"
#include "dht/node.h"
#include "dht/wire_codec.h"
#include "gtest/gtest.h"
#include "net/endpoint.h"
#include "net/subnet.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"
#include "storage/memory_store.h"
#include "tests/testing/sim_builders.h"

namespace kad::dht {
namespace {

// An address outside the simulated network (whose hosts are 10.x.y.z).
const net::Endpoint kAttacker = net::Endpoint::Ipv4({198, 18, 7, 7}, 6881);

struct Host {
  std::unique_ptr<net::SimTransport> transport;
  std::unique_ptr<storage::MemoryStore> store;
  std::unique_ptr<Node> node;
};

class AbuseTest : public ::testing::Test {
 protected:
  AbuseTest()
      : network_(clock_, testing::ConstantRtt(absl::Milliseconds(20))) {}

  Node& AddNode(NodeOptions options) {
    Host host;
    host.transport = network_.NewTransport();
    host.store = std::make_unique<storage::MemoryStore>();
    options.seed = hosts_.size() + 1;
    host.node = std::make_unique<Node>(options, *host.transport, clock_,
                                       *host.store);
    host.node->Start();
    hosts_.push_back(std::move(host));
    return *hosts_.back().node;
  }

  // Sends `count` copies of `request` to `to`, evenly over `duration`,
  // from the (possibly forged) source `from`.
  void Flood(const net::Endpoint& from, const net::Endpoint& to,
             const Message& request, int count, absl::Duration duration) {
    auto bytes = EncodeMessage(request, clock_.Now());
    ASSERT_TRUE(bytes.ok());
    for (int i = 0; i < count; ++i) {
      clock_.Schedule(duration * i / count, [this, from, to, bytes = *bytes] {
        (void)network_.Inject(from, to, bytes);
      });
    }
  }

  static uint64_t Sent(const Node& node, MessageType type) {
    return node.stats().messages_out[static_cast<size_t>(type)];
  }

  net::SimClock clock_;
  net::SimNetwork network_;
  std::vector<Host> hosts_;
};

struct FloodOutcome {
  uint64_t answered = 0;
  int gets_ok = 0;
};

class FloodTest : public AbuseTest {
 protected:
  // Runs a 5-second flood of 20,000 pings from one source at a node,
  // while another host does a get through it every half second; returns
  // the pongs the flood got and the gets that succeeded.
  FloodOutcome Run(bool limits_on) {
    NodeOptions options;
    if (!limits_on) {
      options.admission = std::nullopt;
      options.reply_budget = std::nullopt;
    }
    Node& target = AddNode(options);
    Node& client = AddNode(NodeOptions{});
    std::optional<absl::StatusOr<int>> joined;
    client.Bootstrap({target.endpoint()},
                     [&](absl::StatusOr<int> r) { joined = r; });
    clock_.RunFor(absl::Seconds(5));
    EXPECT_TRUE(joined && joined->ok());
    storage::Record record{"key", "value", 1, clock_.Now() + absl::Hours(1)};
    bool put = false;
    client.Put(record, [&](absl::StatusOr<PutResult> r) { put = r.ok(); });
    clock_.RunFor(absl::Seconds(5));
    EXPECT_TRUE(put);

    const uint64_t pongs_before = Sent(target, MessageType::kPong);
    Flood(kAttacker, target.endpoint(),
          Message{1, NodeId::ForKey("attacker"), dht::Ping{}}, 20'000,
          absl::Seconds(5));
    FloodOutcome outcome;
    for (int i = 0; i < 10; ++i) {  // A get every half second meanwhile.
      clock_.Schedule(absl::Milliseconds(500) * i, [&] {
        client.Get("key", [&](absl::StatusOr<GetResult> r) {
          outcome.gets_ok += r.ok() ? 1 : 0;
        });
      });
    }
    clock_.RunFor(absl::Seconds(10));
    // The client's own pings (refresh, probes) are few; count the flood's.
    outcome.answered = Sent(target, MessageType::kPong) - pongs_before;
    return outcome;
  }
};

TEST_F(FloodTest, OneSourceIsAnsweredOnlyUpToItsLimitWhileOthersAreServed) {
  FloodOutcome outcome = Run(/*limits_on=*/true);
  // Default limit: bursts of 1,000, then 200/s, until the source is
  // banned for sending far past it.
  EXPECT_LE(outcome.answered, 1'000u + 200u * 5u + 10u);
  EXPECT_EQ(outcome.gets_ok, 10);
  EXPECT_GT(hosts_[0].node->gate_stats().admission.dropped(), 15'000u);
  EXPECT_EQ(hosts_[0].node->gate_stats().admission.bans, 1u);
}

TEST_F(FloodTest, ControlWithoutLimitsAnswersTheWholeFlood) {
  FloodOutcome outcome = Run(/*limits_on=*/false);
  EXPECT_GE(outcome.answered, 20'000u);
  EXPECT_EQ(outcome.gets_ok, 10);
}

// Forged find_node requests claiming to come from a victim host: the
// node's replies to the victim stay within the reply budget (64 KiB/s
// with a 64 KiB burst). Admission is off in both runs so that the reply
// budget alone is measured.
class ReflectionTest : public AbuseTest {
 protected:
  // Returns the bytes the victim received during a 5-second flood of
  // 10,000 forged requests.
  uint64_t Run(bool budget_on) {
    NodeOptions options;
    options.admission = std::nullopt;
    if (!budget_on) options.reply_budget = std::nullopt;
    // The simulated hosts share 10.0.0.0/24: count them as distinct hosts,
    // so the reflector's table (and its answers) hold all 20.
    options.prefix_limit_exempt.push_back(*net::Subnet::Parse("10.0.0.0/8"));
    Node& reflector = AddNode(options);
    std::vector<Contact> contacts;  // So that an answer carries 20.
    for (int i = 0; i < 20; ++i) {
      Node& node = AddNode(NodeOptions{});
      contacts.push_back({node.id(), node.endpoint()});
    }
    reflector.AdoptContacts(contacts);
    auto victim = network_.NewTransport();
    uint64_t received = 0;
    victim->SetReceiveHandler(
        [&received](const net::Endpoint&, std::span<const uint8_t> bytes) {
          received += bytes.size();
        });
    // With a sender id, so the node would also probe the "stranger".
    Flood(victim->local_endpoint(), reflector.endpoint(),
          Message{1, NodeId::ForKey("forger"), FindNode{NodeId::ForKey("x")}},
          10'000, absl::Seconds(5));
    clock_.RunFor(absl::Seconds(6));
    return received;
  }
};

TEST_F(ReflectionTest, AVictimGetsNoMoreThanTheReplyBudget) {
  const uint64_t received = Run(/*budget_on=*/true);
  constexpr uint64_t kBudget = 64 * 1024;  // Per second, and the burst.
  EXPECT_LE(received, kBudget + kBudget * 6);
  EXPECT_GT(received, kBudget);  // It was answered up to its budget.
  EXPECT_GT(hosts_[0].node->gate_stats().replies.withheld(), 9'000u);
}

TEST_F(ReflectionTest, ControlWithoutBudgetReflectsEveryRequest) {
  const uint64_t received = Run(/*budget_on=*/false);
  EXPECT_GE(received, 10'000u * 600u);  // Answers of ~700 bytes each.
}

}  // namespace
}  // namespace kad::dht

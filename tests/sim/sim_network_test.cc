#include "net/sim_network.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/testing/sim_builders.h"

namespace kad::net {
namespace {

struct Received {
  Endpoint from;
  std::vector<uint8_t> bytes;
  absl::Time at;
};

using ::kad::testing::ConstantRtt;

class SimNetworkTest : public ::testing::Test {
 protected:
  explicit SimNetworkTest(
      SimNetworkOptions options = ConstantRtt(absl::Milliseconds(40)))
      : network_(clock_, options) {}

  // Adds a host that records what it receives into inbox(i).
  SimTransport& AddHost(Family family = Family::kIpv4) {
    transports_.push_back(network_.NewTransport(family));
    inboxes_.push_back(std::make_unique<std::vector<Received>>());
    auto* inbox = inboxes_.back().get();
    transports_.back()->SetReceiveHandler(
        [this, inbox](const Endpoint& from, std::span<const uint8_t> bytes) {
          inbox->push_back({from, {bytes.begin(), bytes.end()}, clock_.Now()});
        });
    return *transports_.back();
  }
  std::vector<Received>& inbox(size_t i) { return *inboxes_[i]; }
  void SendText(SimTransport& from, const Endpoint& to, std::string text) {
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    ASSERT_TRUE(from.Send(to, bytes).ok());
  }

  SimClock clock_;
  SimNetwork network_;
  std::vector<std::unique_ptr<SimTransport>> transports_;
  std::vector<std::unique_ptr<std::vector<Received>>> inboxes_;
};

TEST_F(SimNetworkTest, HostsGetDistinctSyntheticAddresses) {
  SimTransport& a = AddHost();
  SimTransport& b = AddHost();
  SimTransport& c = AddHost(Family::kIpv6);
  EXPECT_EQ(a.local_endpoint().ToString(), "10.0.0.1:4222");
  EXPECT_EQ(b.local_endpoint().ToString(), "10.0.0.2:4222");
  EXPECT_EQ(c.local_endpoint().ToString(), "[fd6b:6164::3]:4222");
  EXPECT_TRUE(network_.IsUp(c.local_endpoint()));
  EXPECT_FALSE(network_.IsUp(Endpoint::Ipv4({10, 0, 0, 3}, 4222)));
  EXPECT_FALSE(network_.IsUp(a.local_endpoint().WithPort(4223)));
}

TEST_F(SimNetworkTest, DeliversACopyAfterHalfTheRtt) {
  SimTransport& a = AddHost();
  SimTransport& b = AddHost(Family::kIpv6);
  std::vector<uint8_t> bytes = {1, 2, 3};
  ASSERT_TRUE(a.Send(b.local_endpoint(), bytes).ok());
  bytes[0] = 9;  // The sender's buffer is only borrowed during Send.
  EXPECT_TRUE(inbox(1).empty());  // Never delivered inside Send.
  clock_.RunUntilIdle();
  ASSERT_EQ(inbox(1).size(), 1u);
  EXPECT_EQ(inbox(1)[0].from, a.local_endpoint());
  EXPECT_EQ(inbox(1)[0].bytes, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(inbox(1)[0].at, clock_.start() + absl::Milliseconds(20));
  EXPECT_EQ(network_.stats().datagrams_delivered, 1u);
  EXPECT_EQ(network_.stats().bytes_delivered, 3u);
  EXPECT_EQ(network_.in_flight(), 0u);
}

TEST_F(SimNetworkTest, RefusesOversizedDatagrams) {
  SimTransport& a = AddHost();
  const std::vector<uint8_t> big(SimNetwork::kMaxDatagramBytes + 1);
  EXPECT_EQ(a.Send(a.local_endpoint(), big).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SimNetworkTest, CountsDatagramsToNowhere) {
  SimTransport& a = AddHost();
  SendText(a, Endpoint::Ipv4({192, 0, 2, 1}, 4222), "x");
  SendText(a, Endpoint::Ipv4({10, 0, 0, 7}, 4222), "x");
  clock_.RunUntilIdle();
  EXPECT_EQ(network_.stats().datagrams_sent, 2u);
  EXPECT_EQ(network_.stats().dropped_unknown_destination, 2u);
}

TEST_F(SimNetworkTest, PartitionDropsAcrossGroupsUntilHealed) {
  SimTransport& a = AddHost();
  SimTransport& b = AddHost();
  SimTransport& c = AddHost();
  network_.SetGroup(c.local_endpoint(), 1);
  SendText(a, b.local_endpoint(), "same side");
  SendText(a, c.local_endpoint(), "across");
  SendText(c, a.local_endpoint(), "across");
  clock_.RunUntilIdle();
  EXPECT_EQ(inbox(1).size(), 1u);
  EXPECT_TRUE(inbox(0).empty());
  EXPECT_TRUE(inbox(2).empty());
  EXPECT_EQ(network_.stats().dropped_partition, 2u);

  network_.HealPartitions();
  SendText(a, c.local_endpoint(), "healed");
  clock_.RunUntilIdle();
  ASSERT_EQ(inbox(2).size(), 1u);
  EXPECT_EQ(std::string(inbox(2)[0].bytes.begin(), inbox(2)[0].bytes.end()),
            "healed");
}

TEST_F(SimNetworkTest, CrashedHostNeitherSendsNorReceives) {
  SimTransport& a = AddHost();
  SimTransport& b = AddHost();
  SendText(a, b.local_endpoint(), "in flight");
  network_.Crash(b.local_endpoint());
  SendText(b, a.local_endpoint(), "from the dead");  // Still reports OK.
  clock_.RunUntilIdle();
  EXPECT_TRUE(inbox(0).empty());
  EXPECT_TRUE(inbox(1).empty());
  EXPECT_FALSE(network_.IsUp(b.local_endpoint()));
  EXPECT_EQ(network_.stats().dropped_receiver_down, 1u);
  EXPECT_EQ(network_.stats().dropped_sender_down, 1u);
  EXPECT_EQ(network_.stats().crashes, 1u);
}

TEST_F(SimNetworkTest, LeftOrDestroyedHostReceivesNothing) {
  SimTransport& a = AddHost();
  SimTransport& b = AddHost();
  AddHost();
  const Endpoint c = transports_[2]->local_endpoint();
  network_.Leave(b.local_endpoint());
  transports_[2].reset();
  SendText(a, b.local_endpoint(), "gone");
  SendText(a, c, "gone");
  clock_.RunUntilIdle();
  EXPECT_EQ(network_.stats().dropped_receiver_down, 2u);
  EXPECT_EQ(network_.stats().leaves, 1u);
  EXPECT_FALSE(network_.IsUp(c));
}

TEST_F(SimNetworkTest, InjectsFromAnySourceAfterTheLinkDelay) {
  AddHost();
  SimTransport& b = AddHost();
  network_.SetGroup(b.local_endpoint(), 1);  // Injection ignores groups.
  const Endpoint forged = Endpoint::Ipv4({192, 0, 2, 66}, 1);
  const std::vector<uint8_t> bytes = {7, 7};
  ASSERT_TRUE(network_.Inject(forged, b.local_endpoint(), bytes).ok());
  ASSERT_TRUE(
      network_
          .Inject(transports_[0]->local_endpoint(), b.local_endpoint(), bytes)
          .ok());
  ASSERT_TRUE(network_.Inject(forged, forged, bytes).ok());  // To nowhere.
  EXPECT_TRUE(inbox(1).empty());  // Never delivered inside Inject.
  clock_.RunUntilIdle();
  ASSERT_EQ(inbox(1).size(), 2u);
  EXPECT_EQ(inbox(1)[0].from, forged);
  EXPECT_EQ(inbox(1)[0].bytes, bytes);
  EXPECT_EQ(inbox(1)[0].at, clock_.start() + absl::Milliseconds(20));
  EXPECT_EQ(inbox(1)[1].from, transports_[0]->local_endpoint());
  const SimNetworkStats& stats = network_.stats();
  EXPECT_EQ(stats.datagrams_injected, 3u);
  EXPECT_EQ(stats.datagrams_sent, 0u);
  EXPECT_EQ(stats.datagrams_delivered, 2u);
  EXPECT_EQ(stats.dropped_unknown_destination, 1u);
  const std::vector<uint8_t> big(SimNetwork::kMaxDatagramBytes + 1);
  EXPECT_EQ(network_.Inject(forged, b.local_endpoint(), big).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SimNetworkTest, DetachedHostRefusesToSendAndHearsNothingUntilBack) {
  SimTransport& a = AddHost();
  SimTransport& b = AddHost();
  SendText(a, b.local_endpoint(), "lost while away");
  network_.Detach(b.local_endpoint());
  EXPECT_FALSE(network_.IsUp(b.local_endpoint()));
  const std::vector<uint8_t> bytes = {1};
  EXPECT_EQ(b.Send(a.local_endpoint(), bytes).code(),
            absl::StatusCode::kUnavailable);
  clock_.RunUntilIdle();
  EXPECT_TRUE(inbox(0).empty());
  EXPECT_TRUE(inbox(1).empty());

  network_.Reattach(b.local_endpoint());
  EXPECT_TRUE(network_.IsUp(b.local_endpoint()));
  SendText(a, b.local_endpoint(), "back");
  SendText(b, a.local_endpoint(), "back");
  clock_.RunUntilIdle();
  EXPECT_EQ(inbox(0).size(), 1u);
  ASSERT_EQ(inbox(1).size(), 1u);
  EXPECT_EQ(std::string(inbox(1)[0].bytes.begin(), inbox(1)[0].bytes.end()),
            "back");
  const SimNetworkStats& stats = network_.stats();
  EXPECT_EQ(stats.refused_detached, 1u);
  EXPECT_EQ(stats.dropped_receiver_down, 1u);
  EXPECT_EQ(stats.datagrams_sent, 3u);
  EXPECT_EQ(stats.crashes, 0u);
}

TEST_F(SimNetworkTest, DetachedHostCanStillCrashButACrashedOneIsNotBack) {
  SimTransport& a = AddHost();
  SimTransport& b = AddHost();
  network_.Detach(b.local_endpoint());
  network_.Crash(b.local_endpoint());
  network_.Reattach(b.local_endpoint());  // A crash is for good.
  EXPECT_FALSE(network_.IsUp(b.local_endpoint()));
  SendText(b, a.local_endpoint(), "from the dead");  // OK, as after a crash.
  clock_.RunUntilIdle();
  EXPECT_TRUE(inbox(0).empty());
  EXPECT_EQ(network_.stats().crashes, 1u);
  EXPECT_EQ(network_.stats().dropped_sender_down, 1u);
}

TEST_F(SimNetworkTest, HostWithoutHandlerDropsDatagrams) {
  SimTransport& a = AddHost();
  std::unique_ptr<SimTransport> mute = network_.NewTransport();
  SendText(a, mute->local_endpoint(), "unheard");
  clock_.RunUntilIdle();
  EXPECT_EQ(network_.stats().dropped_receiver_down, 1u);
}

TEST_F(SimNetworkTest, HandlerMaySendWhileBeingCalled) {
  SimTransport& a = AddHost();
  std::unique_ptr<SimTransport> echo = network_.NewTransport();
  echo->SetReceiveHandler(
      [&](const Endpoint& from, std::span<const uint8_t> bytes) {
        for (int i = 0; i < 3; ++i) ASSERT_TRUE(echo->Send(from, bytes).ok());
      });
  SendText(a, echo->local_endpoint(), "ping");
  clock_.RunUntilIdle();
  EXPECT_EQ(inbox(0).size(), 3u);
  EXPECT_EQ(inbox(0)[2].at, clock_.start() + absl::Milliseconds(40));
}

TEST_F(SimNetworkTest, ReusedSlotsCarryEachDatagramsOwnBytes) {
  // Slots keep their buffers between datagrams: a short datagram after a
  // long one, and a long one after a short one, must each arrive whole.
  SimTransport& a = AddHost();
  SimTransport& b = AddHost();
  std::vector<std::vector<uint8_t>> sent;
  for (size_t size : {3000, 5, 700, 0, 2049, 300, 1, 65'507}) {
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i)
      bytes[i] = static_cast<uint8_t>(i * 7 + size);
    ASSERT_TRUE(a.Send(b.local_endpoint(), bytes).ok());
    sent.push_back(std::move(bytes));
    clock_.RunUntilIdle();  // Delivered: its slot is free for the next.
  }
  ASSERT_EQ(inbox(1).size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(inbox(1)[i].bytes, sent[i]) << "datagram " << i;
  }
  EXPECT_EQ(network_.in_flight(), 0u);
}

TEST_F(SimNetworkTest, HandlerSeesItsDatagramIntactWhileSendingMany) {
  // Sending from a handler parks datagrams in other slots, and may grow
  // the slab, while the handler still reads the datagram it was given.
  SimTransport& a = AddHost();
  std::unique_ptr<SimTransport> relay = network_.NewTransport();
  std::vector<uint8_t> seen;
  relay->SetReceiveHandler(
      [&](const Endpoint& from, std::span<const uint8_t> bytes) {
        const std::vector<uint8_t> junk(bytes.size(), 0xee);
        for (int i = 0; i < 1000; ++i)
          ASSERT_TRUE(relay->Send(from, junk).ok());
        seen.assign(bytes.begin(), bytes.end());
      });
  SendText(a, relay->local_endpoint(), "the original datagram");
  clock_.RunUntilIdle();
  EXPECT_EQ(std::string(seen.begin(), seen.end()), "the original datagram");
  EXPECT_EQ(inbox(0).size(), 1000u);
}

class LossyNetworkTest : public SimNetworkTest {
 protected:
  LossyNetworkTest()
      : SimNetworkTest(ConstantRtt(absl::Milliseconds(10), 0.1)) {}
};

TEST_F(LossyNetworkTest, LosesTheConfiguredShareOfDatagrams) {
  SimTransport& a = AddHost();
  SimTransport& b = AddHost();
  const std::vector<uint8_t> bytes = {42};
  for (int i = 0; i < 100'000; ++i) {
    ASSERT_TRUE(a.Send(b.local_endpoint(), bytes).ok());
  }
  clock_.RunUntilIdle();
  const SimNetworkStats& stats = network_.stats();
  EXPECT_NEAR(static_cast<double>(stats.dropped_loss) / 100'000, 0.1, 0.005);
  EXPECT_EQ(stats.datagrams_delivered + stats.dropped_loss, 100'000u);
  EXPECT_EQ(inbox(1).size(), stats.datagrams_delivered);
}

TEST(SimNetworkMemoryTest, SpareBuffersDoNotKeepABurstsBytes) {
  SimClock clock;
  SimNetwork network(clock, SimNetworkOptions{});
  std::unique_ptr<SimTransport> a = network.NewTransport();
  std::unique_ptr<SimTransport> b = network.NewTransport();
  b->SetReceiveHandler([](const Endpoint&, std::span<const uint8_t>) {});
  const size_t before = mallinfo2().uordblks;
  // A burst of 20 MB in flight, delivered.
  const std::vector<uint8_t> big(1000, 7);
  for (int i = 0; i < 20'000; ++i) {
    ASSERT_TRUE(a->Send(b->local_endpoint(), big).ok());
  }
  clock.RunUntilIdle();
  const size_t after = mallinfo2().uordblks;
  if (after <= before) {
    GTEST_SKIP() << "the allocator does not report to mallinfo2 (sanitizers?)";
  }
  // Left: the slab of 20,000 slots, the pool's few hundred spare buffers
  // and the clock's buckets, not the burst's 20 MB.
  EXPECT_LT(after - before, size_t{4} << 20);
  EXPECT_EQ(network.stats().datagrams_delivered, 20'000u);
}

TEST(SimNetworkMemoryTest, AHostCostsWellUnderAKibibyte) {
  SimClock clock;
  SimNetwork network(clock, SimNetworkOptions{});
  constexpr int kHosts = 200'000;
  std::vector<std::unique_ptr<SimTransport>> transports;
  transports.reserve(kHosts);  // Counted apart: the caller's vector.
  const size_t before = mallinfo2().uordblks;
  for (int i = 0; i < kHosts; ++i) transports.push_back(network.NewTransport());
  for (auto& t : transports) {
    t->SetReceiveHandler(
        [&t](const Endpoint&, std::span<const uint8_t>) { (void)t; });
  }
  const size_t after = mallinfo2().uordblks;
  if (after <= before) {
    GTEST_SKIP() << "the allocator does not report to mallinfo2 (sanitizers?)";
  }
  const double per_host = static_cast<double>(after - before) / kHosts;
  RecordProperty("sim_bytes_per_host", static_cast<int>(per_host));
  EXPECT_LT(per_host, 128.0);
}

}  // namespace
}  // namespace kad::net

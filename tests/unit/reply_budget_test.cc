#include "dht/reply_budget.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
constexpr size_t kFindNodeRequest = 52;  // as wire_codec encodes them
constexpr size_t kFindNodeReply = 723;   // with 20 contacts

net::Endpoint V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return net::Endpoint::Ipv4({a, b, c, d}, 4222);
}
net::Endpoint V6(std::string_view text) { return *net::Endpoint::Parse(text); }

// Answers `count` find_node requests "from" `destination` at `now`;
// returns the reply bytes sent.
size_t Reflect(ReplyBudget& budget, const net::Endpoint& destination,
               absl::Time now, int count,
               AddressProof proof = AddressProof::kProven) {
  size_t sent = 0;
  for (int i = 0; i < count; ++i) {
    if (budget.Decide(destination, kFindNodeRequest, kFindNodeReply, proof,
                      now) == ReplyDecision::kSend) {
      sent += kFindNodeReply;
    }
  }
  return sent;
}

TEST(ReplyBudgetTest, BoundsTheBytesAForgedFloodSendsAVictim) {
  ReplyBudget budget;
  net::Endpoint victim = V4(198, 18, 0, 1);
  // 100,000 forged requests a second for 10 s, in the victim's name (the
  // victim is a real node, so its address counts as proven).
  absl::Time t = kStart;
  size_t sent = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    t += absl::Microseconds(10);
    if (budget.Decide(victim, kFindNodeRequest, kFindNodeReply,
                      AddressProof::kProven, t) == ReplyDecision::kSend) {
      sent += kFindNodeReply;
    }
  }
  // The burst plus 10 s at 64 KiB/s.
  EXPECT_LE(sent, 64 * 1024 + 10 * 64 * 1024);
  EXPECT_GE(sent, 10 * 64 * 1024);
  ReplyBudgetStats stats = budget.stats();
  EXPECT_EQ(stats.bytes_sent, sent);
  EXPECT_EQ(stats.withheld_address_budget, 1'000'000 - stats.replies_sent);
  EXPECT_EQ(stats.bytes_withheld, stats.withheld() * kFindNodeReply);
  // Another destination is unaffected.
  EXPECT_EQ(budget.Decide(V4(198, 18, 1, 1), kFindNodeRequest, kFindNodeReply,
                          AddressProof::kProven, t),
            ReplyDecision::kSend);
}

TEST(ReplyBudgetTest, UnprovenDestinationGetsNoMoreThanThreeTimesTheRequest) {
  ReplyBudget budget;
  net::Endpoint stranger = V4(198, 18, 0, 1);
  // Counted with 28 bytes of IPv4 and UDP headers: a 52-byte find_node is
  // 80 on the wire, so the reply may be 240 on the wire, 212 of payload.
  EXPECT_EQ(budget.Decide(stranger, 52, 213, AddressProof::kUnproven, kStart),
            ReplyDecision::kWithholdAmplification);
  EXPECT_EQ(budget.Decide(stranger, 52, 212, AddressProof::kUnproven, kStart),
            ReplyDecision::kSend);
  EXPECT_EQ(budget.Decide(stranger, 52, 723, AddressProof::kProven, kStart),
            ReplyDecision::kSend);
  // A 41-byte pong answers even a 9-byte anonymous ping.
  EXPECT_EQ(budget.Decide(stranger, 9, 41, AddressProof::kUnproven, kStart),
            ReplyDecision::kSend);
  ReplyBudgetStats stats = budget.stats();
  EXPECT_EQ(stats.withheld_amplification, 1u);
  EXPECT_EQ(stats.bytes_withheld, 213u);
  EXPECT_EQ(stats.bytes_sent, 212u + 723u + 41u);
}

TEST(ReplyBudgetTest, AmplificationRuleCanBeTurnedOff) {
  ReplyBudgetOptions options;
  options.unproven_max_amplification.reset();
  ReplyBudget budget(options);
  EXPECT_EQ(budget.Decide(V4(198, 18, 0, 1), 30, 1'200, AddressProof::kUnproven,
                          kStart),
            ReplyDecision::kSend);
}

TEST(ReplyBudgetTest, StrictAmplificationRuleSendsNothingLargerThanTheRequest) {
  ReplyBudgetOptions options;
  options.unproven_max_amplification = 1.0;
  ReplyBudget budget(options);
  net::Endpoint stranger = V4(198, 18, 0, 1);
  EXPECT_EQ(budget.Decide(stranger, 40, 41, AddressProof::kUnproven, kStart),
            ReplyDecision::kWithholdAmplification);
  EXPECT_EQ(budget.Decide(stranger, 40, 40, AddressProof::kUnproven, kStart),
            ReplyDecision::kSend);
}

TEST(ReplyBudgetTest, RefillsOverTime) {
  ReplyBudget budget;
  net::Endpoint peer = V4(198, 18, 0, 1);
  size_t burst = Reflect(budget, peer, kStart, 1'000);
  EXPECT_EQ(burst, (64 * 1024 / kFindNodeReply) * kFindNodeReply);
  EXPECT_EQ(Reflect(budget, peer, kStart, 1), 0u);
  size_t second = Reflect(budget, peer, kStart + absl::Seconds(1), 1'000);
  EXPECT_NEAR(static_cast<double>(second), 64 * 1024, kFindNodeReply);
}

TEST(ReplyBudgetTest, PrefixBudgetBoundsAVictimNetworkSpreadOverAddresses) {
  ReplyBudget budget;
  size_t sent = 0;
  for (int host = 1; host <= 250; ++host) {
    sent += Reflect(budget, V4(198, 18, 9, host), kStart, 10);
  }
  EXPECT_LE(sent, 256u * 1024u);
  EXPECT_GT(sent, 256u * 1024u - kFindNodeReply);
  EXPECT_GT(budget.stats().withheld_prefix_budget, 0u);
  EXPECT_EQ(budget.stats().withheld_address_budget, 0u);
}

TEST(ReplyBudgetTest, Ipv6DestinationsAreBudgetedBySlash64AndSlash56) {
  ReplyBudget budget;
  size_t one_64 = 0;
  for (int i = 0; i < 200; ++i) {
    std::string text = absl::StrFormat("[2001:db8:0:1:%x::1]:4222", i);
    one_64 += Reflect(budget, V6(text), kStart, 1);
  }
  EXPECT_EQ(one_64, (64 * 1024 / kFindNodeReply) * kFindNodeReply);
  size_t one_56 = one_64;
  for (int net = 2; net < 256; ++net) {
    std::string text = absl::StrFormat("[2001:db8:0:%x::1]:4222", net);
    one_56 += Reflect(budget, V6(text), kStart, 100);
  }
  EXPECT_LE(one_56, 256u * 1024u);
  EXPECT_GT(one_56, 256u * 1024u - kFindNodeReply);
}

TEST(ReplyBudgetTest, AllowanceIsTheLargestReplyThatWouldBeSent) {
  ReplyBudget budget;
  net::Endpoint peer = V4(198, 18, 0, 1);
  EXPECT_EQ(budget.Allowance(peer, 60, AddressProof::kUnproven, kStart),
            3u * (60u + 28u) - 28u);
  EXPECT_EQ(budget.Allowance(peer, 60, AddressProof::kProven, kStart),
            64u * 1024u);
  Reflect(budget, peer, kStart, 80);  // 57,840 bytes
  size_t left = budget.Allowance(peer, 60, AddressProof::kProven, kStart);
  EXPECT_EQ(left, 64u * 1024u - 80u * kFindNodeReply);
  EXPECT_EQ(budget.Decide(peer, 60, left + 1, AddressProof::kProven, kStart),
            ReplyDecision::kWithholdAddressBudget);
  EXPECT_EQ(budget.Decide(peer, 60, left, AddressProof::kProven, kStart),
            ReplyDecision::kSend);
  EXPECT_EQ(budget.Allowance(peer, 60, AddressProof::kProven, kStart), 0u);
  EXPECT_NEAR(
      static_cast<double>(budget.Allowance(peer, 60, AddressProof::kProven,
                                           kStart + absl::Seconds(0.5))),
      32 * 1024, 1);
}

TEST(ReplyBudgetTest, LoopbackIsExemptByDefault) {
  ReplyBudget budget;
  net::Endpoint local = V4(127, 0, 0, 1);
  EXPECT_EQ(Reflect(budget, local, kStart, 10'000, AddressProof::kUnproven),
            10'000u * kFindNodeReply);
  EXPECT_EQ(budget.Allowance(local, 1, AddressProof::kUnproven, kStart),
            SIZE_MAX);
  EXPECT_EQ(budget.tracked(), 0u);
}

TEST(ReplyBudgetTest, LoopbackIsBudgetedWhenNotExempt) {
  ReplyBudgetOptions options;
  options.exempt_loopback = false;
  ReplyBudget budget(options);
  EXPECT_LE(Reflect(budget, V4(127, 0, 0, 1), kStart, 10'000), 64u * 1024u);
}

TEST(ReplyBudgetTest, TableStaysWithinItsBoundUnderAMillionDestinations) {
  ReplyBudget budget;
  EXPECT_EQ(budget.MemoryBytes(), 0u);
  size_t peak = 0;
  for (uint32_t n = 0; n < 1'000'000; ++n) {
    net::Endpoint destination =
        V4(static_cast<uint8_t>(11 + (n >> 24)), static_cast<uint8_t>(n >> 16),
           static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n));
    budget.Decide(destination, 60, 100, AddressProof::kProven, kStart);
    if (n % 4096 == 0) peak = std::max(peak, budget.MemoryBytes());
  }
  EXPECT_LE(budget.tracked(), ReplyBudgetOptions{}.max_entries);
  EXPECT_LE(peak, 384u * 1024u);  // the bound the header states
}

TEST(ReplyBudgetTest, NamesEveryDecision) {
  EXPECT_EQ(ReplyDecisionName(ReplyDecision::kSend), "send");
  EXPECT_EQ(ReplyDecisionName(ReplyDecision::kWithholdAmplification),
            "withhold_amplification");
  EXPECT_EQ(ReplyDecisionName(ReplyDecision::kWithholdAddressBudget),
            "withhold_address_budget");
  EXPECT_EQ(ReplyDecisionName(ReplyDecision::kWithholdPrefixBudget),
            "withhold_prefix_budget");
}

}  // namespace
}  // namespace kad::dht

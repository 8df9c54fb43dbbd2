#include "dht/id_binding.h"

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

net::Endpoint At(std::string_view text) { return *net::Endpoint::Parse(text); }

TEST(IdBindingTest, IdBoundToA24VerifiesFromAnyHostOfIt) {
  std::mt19937_64 gen(1);
  const IdBindingOptions options;
  const NodeId id = RandomBoundId(At("198.51.100.7:4222"), options, gen);
  EXPECT_EQ(CheckId(id, At("198.51.100.7:4222"), options), IdCheck::kVerified);
  EXPECT_EQ(CheckId(id, At("198.51.100.200:9"), options), IdCheck::kVerified);
  EXPECT_EQ(CheckId(id, At("198.51.101.7:4222"), options), IdCheck::kMismatch);
  EXPECT_EQ(CheckId(id, At("203.0.113.7:4222"), options), IdCheck::kMismatch);
}

TEST(IdBindingTest, IdBoundToA48VerifiesAcrossItsSubnetsOnly) {
  std::mt19937_64 gen(2);
  const IdBindingOptions options;
  const NodeId id = RandomBoundId(At("[2001:db8:1:2::5]:4222"), options, gen);
  EXPECT_EQ(CheckId(id, At("[2001:db8:1:ffff::9]:1"), options),
            IdCheck::kVerified);
  EXPECT_EQ(CheckId(id, At("[2001:db8:2:2::5]:4222"), options),
            IdCheck::kMismatch);
}

TEST(IdBindingTest, OnlyTheBoundBitsAndRMatter) {
  std::mt19937_64 gen(3);
  const IdBindingOptions options;
  const net::Endpoint address = At("198.51.100.7:4222");
  const NodeId id = RandomBoundId(address, options, gen);
  std::array<uint8_t, NodeId::kBytes> bytes = id.bytes();
  bytes[10] ^= 0xff;  // A free bit: still bound.
  EXPECT_EQ(CheckId(NodeId(bytes), address, options), IdCheck::kVerified);
  bytes[0] ^= 0x80;  // A bound bit.
  EXPECT_EQ(CheckId(NodeId(bytes), address, options), IdCheck::kMismatch);
}

TEST(IdBindingTest, OneAddressReachesAtMostEightPrefixes) {
  std::mt19937_64 gen(4);
  const IdBindingOptions options;
  std::set<std::array<uint8_t, 3>> prefixes;
  for (int i = 0; i < 1000; ++i) {
    const NodeId id = RandomBoundId(
        At(absl::StrCat("198.51.100.", i % 250, ":4222")), options, gen);
    prefixes.insert({id.bytes()[0], id.bytes()[1], id.bytes()[2]});
  }
  EXPECT_LE(prefixes.size(), 8u);
  EXPECT_GE(prefixes.size(), 2u);
}

TEST(IdBindingTest, LoopbackPrivateAndUnspecifiedAddressesAreExempt) {
  std::mt19937_64 gen(5);
  const IdBindingOptions options;
  const NodeId id = NodeId::Random(gen);
  for (const char* address : {"127.0.0.1:1", "10.1.2.3:1", "192.168.1.1:1",
                              "100.64.1.1:1", "0.0.0.0:4222", "[::1]:1",
                              "[fd00::1]:1"}) {
    SCOPED_TRACE(address);
    EXPECT_FALSE(Verifiable(At(address), options));
    EXPECT_EQ(CheckId(id, At(address), options), IdCheck::kUnverifiable);
    EXPECT_TRUE(Admissible(CheckId(id, At(address), {.enforce = true}),
                           {.enforce = true}));
  }
}

TEST(IdBindingTest, VerifyPrivateMakesPrivateAddressesCheckable) {
  std::mt19937_64 gen(6);
  const IdBindingOptions options{.verify_private = true};
  const NodeId id = RandomBoundId(At("10.0.0.5:1"), options, gen);
  EXPECT_EQ(CheckId(id, At("10.0.0.9:1"), options), IdCheck::kVerified);
  EXPECT_EQ(CheckId(id, At("10.0.1.5:1"), options), IdCheck::kMismatch);
  EXPECT_FALSE(Verifiable(At("127.0.0.1:1"), options));
}

TEST(IdBindingTest, EnforcementRefusesOnlyMismatches) {
  const IdBindingOptions enforce{.enforce = true};
  EXPECT_TRUE(Admissible(IdCheck::kVerified, enforce));
  EXPECT_TRUE(Admissible(IdCheck::kUnverifiable, enforce));
  EXPECT_FALSE(Admissible(IdCheck::kMismatch, enforce));
  EXPECT_TRUE(Admissible(IdCheck::kMismatch, IdBindingOptions{}));
}

}  // namespace
}  // namespace kad::dht

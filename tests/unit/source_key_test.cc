#include "dht/source_key.h"

#include "absl/hash/hash_testing.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

net::Endpoint V6(std::string_view text) { return *net::Endpoint::Parse(text); }

TEST(SourceKeyTest, Ipv4IsKeyedByAddressAndSlash24) {
  SourceKeys keys = KeysOf(net::Endpoint::Ipv4({10, 1, 2, 3}, 4222));
  EXPECT_EQ(keys.address, (SourceKey{0x0a010203, SourceKind::kIpv4Address}));
  EXPECT_EQ(keys.prefix, (SourceKey{0x0a0102, SourceKind::kIpv4Prefix}));
  EXPECT_FALSE(keys.loopback);
}

TEST(SourceKeyTest, PortDoesNotMatter) {
  EXPECT_EQ(KeysOf(net::Endpoint::Ipv4({10, 1, 2, 3}, 1)).address,
            KeysOf(net::Endpoint::Ipv4({10, 1, 2, 3}, 2)).address);
}

TEST(SourceKeyTest, Ipv6IsKeyedBySlash64AndSlash56) {
  SourceKeys a = KeysOf(V6("[2001:db8:1:2ff:1::1]:4222"));
  SourceKeys same_64 = KeysOf(V6("[2001:db8:1:2ff:9::9]:4222"));
  SourceKeys same_56 = KeysOf(V6("[2001:db8:1:200::1]:4222"));
  SourceKeys other_56 = KeysOf(V6("[2001:db8:1:300::1]:4222"));
  EXPECT_EQ(a.address,
            (SourceKey{0x20010db8000102ff, SourceKind::kIpv6Address}));
  EXPECT_EQ(a.prefix, (SourceKey{0x20010db8000102, SourceKind::kIpv6Prefix}));
  EXPECT_EQ(a.address, same_64.address);
  EXPECT_NE(a.address, same_56.address);
  EXPECT_EQ(a.prefix, same_56.prefix);
  EXPECT_NE(a.prefix, other_56.prefix);
}

TEST(SourceKeyTest, Ipv4MappedIpv6IsTheIpv4Address) {
  SourceKeys mapped = KeysOf(V6("[::ffff:10.1.2.3]:4222"));
  SourceKeys v4 = KeysOf(net::Endpoint::Ipv4({10, 1, 2, 3}, 4222));
  EXPECT_EQ(mapped.address, v4.address);
  EXPECT_EQ(mapped.prefix, v4.prefix);
}

TEST(SourceKeyTest, KindsNeverCollide) {
  // 0.10.1.2's address bits equal 10.1.2.x's prefix bits.
  EXPECT_NE(KeysOf(net::Endpoint::Ipv4({0, 10, 1, 2}, 1)).address,
            KeysOf(net::Endpoint::Ipv4({10, 1, 2, 3}, 1)).prefix);
  EXPECT_NE(KeysOf(net::Endpoint::Ipv4({10, 1, 2, 3}, 1)).address,
            KeysOf(V6("[::a01:203]:1")).address);
}

TEST(SourceKeyTest, FlagsLoopbackInEveryForm) {
  EXPECT_TRUE(KeysOf(net::Endpoint::Ipv4({127, 0, 0, 1}, 1)).loopback);
  EXPECT_TRUE(KeysOf(net::Endpoint::Ipv4({127, 9, 9, 9}, 1)).loopback);
  EXPECT_TRUE(KeysOf(V6("[::1]:1")).loopback);
  EXPECT_TRUE(KeysOf(V6("[::ffff:127.0.0.1]:1")).loopback);
  EXPECT_FALSE(KeysOf(net::Endpoint::Ipv4({128, 0, 0, 1}, 1)).loopback);
  EXPECT_FALSE(KeysOf(V6("[::2]:1")).loopback);
}

TEST(SourceKeyTest, HashIsConsistentWithEquality) {
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({
      SourceKey{1, SourceKind::kIpv4Address},
      SourceKey{1, SourceKind::kIpv4Prefix},
      SourceKey{2, SourceKind::kIpv4Address},
      SourceKey{1, SourceKind::kIpv6Address},
  }));
}

}  // namespace
}  // namespace kad::dht

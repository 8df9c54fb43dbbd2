#include "net/endpoint.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash_testing.h"
#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kad::net {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::array<uint8_t, 16> kV6Loopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                 0, 0, 0, 0, 0, 0, 0, 1};

TEST(EndpointTest, DefaultIsIpv4AnyPortZero) {
  Endpoint e;
  EXPECT_EQ(e.family(), Family::kIpv4);
  EXPECT_EQ(e.port(), 0);
  EXPECT_EQ(e.ToString(), "0.0.0.0:0");
}

TEST(EndpointTest, ParsesIpv4) {
  absl::StatusOr<Endpoint> e = Endpoint::Parse("192.168.1.20:4222");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->family(), Family::kIpv4);
  EXPECT_THAT(e->address(), ElementsAre(192, 168, 1, 20));
  EXPECT_EQ(e->port(), 4222);
}

TEST(EndpointTest, ParsesIpv6InBrackets) {
  absl::StatusOr<Endpoint> e = Endpoint::Parse("[2001:db8::7]:65535");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->family(), Family::kIpv6);
  EXPECT_THAT(e->address(), ElementsAre(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 7));
  EXPECT_EQ(e->port(), 65535);
}

TEST(EndpointTest, ParsesPortZero) {
  absl::StatusOr<Endpoint> e = Endpoint::Parse("127.0.0.1:0");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->port(), 0);
}

TEST(EndpointTest, RejectsMalformedText) {
  const std::vector<std::string> bad = {
      "",
      "127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:70000",
      "127.0.0.1:-1",
      "127.0.0.1:80x",
      "localhost:4222",
      "::1:4222",
      "[::1]",
      "[::1]4222",
      "[::1:4222",
      "1.2.3:4222",
      "256.1.1.1:80",
      " 1.2.3.4:80",
      "[zz::1]:80",
      "1.2.3.4:65536",
  };
  for (const std::string& text : bad) {
    absl::StatusOr<Endpoint> e = Endpoint::Parse(text);
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << text << "' parsed as " << (e.ok() ? e->ToString() : "");
  }
}

TEST(EndpointTest, ErrorNamesInputAndReason) {
  EXPECT_THAT(Endpoint::Parse("10.0.0.1:70000").status().message(),
              HasSubstr("'10.0.0.1:70000'"));
  EXPECT_THAT(Endpoint::Parse("10.0.0.1").status().message(),
              HasSubstr("missing port"));
  EXPECT_THAT(Endpoint::Parse("fe80::1:80").status().message(),
              HasSubstr("brackets"));
  EXPECT_THAT(Endpoint::Parse("example.org:80").status().message(),
              HasSubstr("numeric"));
}

TEST(EndpointTest, ToStringRoundTrips) {
  for (const char* text :
       {"127.0.0.1:4222", "0.0.0.0:0", "255.255.255.255:65535", "[::1]:4222",
        "[2001:db8::7]:1", "[::]:0", "[fe80::1:2:3:4]:80"}) {
    absl::StatusOr<Endpoint> e = Endpoint::Parse(text);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->ToString(), text);
    EXPECT_EQ(*Endpoint::Parse(e->ToString()), *e);
  }
}

TEST(EndpointTest, AddressStringOmitsPortAndBrackets) {
  EXPECT_EQ(Endpoint::Parse("10.1.2.3:9")->AddressString(), "10.1.2.3");
  EXPECT_EQ(Endpoint::Parse("[::1]:9")->AddressString(), "::1");
}

TEST(EndpointTest, CompressesIpv6Text) {
  Endpoint e = Endpoint::Ipv6(
      {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 80);
  EXPECT_EQ(e.ToString(), "[2001:db8::1]:80");
}

TEST(EndpointTest, DetectsLoopback) {
  EXPECT_TRUE(Endpoint::Parse("127.0.0.1:1")->is_loopback());
  EXPECT_TRUE(Endpoint::Parse("127.255.0.9:1")->is_loopback());
  EXPECT_TRUE(Endpoint::Ipv6(kV6Loopback, 1).is_loopback());
  EXPECT_FALSE(Endpoint::Parse("128.0.0.1:1")->is_loopback());
  EXPECT_FALSE(Endpoint::Parse("[::2]:1")->is_loopback());
  EXPECT_FALSE(Endpoint::Parse("[::]:1")->is_loopback());
}

TEST(EndpointTest, DetectsLocalRanges) {
  for (const char* text :
       {"127.0.0.1:1", "10.0.0.1:1", "10.255.255.255:1", "172.16.0.1:1",
        "172.31.255.1:1", "192.168.0.1:1", "169.254.3.4:1", "[::1]:1",
        "[fc00::1]:1", "[fd12:3456::1]:1", "[fe80::1]:1", "[febf::1]:1"}) {
    EXPECT_TRUE(Endpoint::Parse(text)->is_local()) << text;
  }
  for (const char* text : {"8.8.8.8:1", "172.15.0.1:1", "172.32.0.1:1",
                           "192.169.0.1:1", "11.0.0.1:1", "169.253.0.1:1",
                           "[2001:db8::1]:1", "[fec0::1]:1", "[fe00::1]:1"}) {
    EXPECT_FALSE(Endpoint::Parse(text)->is_local()) << text;
  }
}

TEST(EndpointTest, FromBytesChecksLength) {
  const uint8_t bytes[17] = {10, 0, 0, 1};
  absl::StatusOr<Endpoint> v4 = Endpoint::FromBytes({bytes, 4}, 7);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->ToString(), "10.0.0.1:7");
  absl::StatusOr<Endpoint> v6 = Endpoint::FromBytes({bytes, 16}, 7);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family(), Family::kIpv6);
  EXPECT_EQ(v6->address().size(), Endpoint::kIpv6Bytes);
  for (size_t length : {0, 3, 5, 15, 17}) {
    EXPECT_EQ(Endpoint::FromBytes({bytes, length}, 7).status().code(),
              absl::StatusCode::kInvalidArgument)
        << length;
  }
}

TEST(EndpointTest, WithPortKeepsAddress) {
  Endpoint e = *Endpoint::Parse("[::1]:5");
  Endpoint moved = e.WithPort(6);
  EXPECT_EQ(moved.ToString(), "[::1]:6");
  EXPECT_NE(moved, e);
  EXPECT_EQ(moved.WithPort(5), e);
}

TEST(EndpointTest, OrdersByFamilyThenAddressThenPort) {
  Endpoint a = *Endpoint::Parse("10.0.0.1:9");
  Endpoint b = *Endpoint::Parse("10.0.0.1:10");
  Endpoint c = *Endpoint::Parse("10.0.0.2:1");
  Endpoint d = *Endpoint::Parse("[::1]:1");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  EXPECT_EQ(a, *Endpoint::Parse("10.0.0.1:9"));
}

TEST(EndpointTest, Ipv4AndIpv6WithSameLeadingBytesDiffer) {
  // The same first four bytes in a v6 address must not compare equal to
  // the v4 address.
  Endpoint v4 = Endpoint::Ipv4({1, 2, 3, 4}, 80);
  Endpoint v6 =
      Endpoint::Ipv6({1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 80);
  EXPECT_NE(v4, v6);
}

TEST(EndpointTest, HashIsConsistentWithEquality) {
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({
      Endpoint(),
      *Endpoint::Parse("127.0.0.1:1"),
      *Endpoint::Parse("127.0.0.1:2"),
      *Endpoint::Parse("127.0.0.2:1"),
      *Endpoint::Parse("[::1]:1"),
      *Endpoint::Parse("[::7f00:1]:1"),
  }));
  absl::flat_hash_set<Endpoint> set = {*Endpoint::Parse("10.0.0.1:1"),
                                       *Endpoint::Parse("10.0.0.1:1"),
                                       *Endpoint::Parse("10.0.0.1:2")};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.contains(*Endpoint::Parse("10.0.0.1:2")));
}

}  // namespace
}  // namespace kad::net

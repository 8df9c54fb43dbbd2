#include "net/subnet.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kad::net {
namespace {

using ::testing::HasSubstr;

Endpoint At(const std::string& text) { return *Endpoint::Parse(text); }

TEST(SubnetTest, ParsesIpv4AndIpv6Prefixes) {
  absl::StatusOr<Subnet> v4 = Subnet::Parse("10.0.0.0/8");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->family(), Family::kIpv4);
  EXPECT_EQ(v4->prefix_length(), 8);
  EXPECT_EQ(v4->ToString(), "10.0.0.0/8");
  absl::StatusOr<Subnet> v6 = Subnet::Parse("fd00::/8");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->family(), Family::kIpv6);
  EXPECT_EQ(v6->prefix_length(), 8);
  EXPECT_EQ(v6->ToString(), "fd00::/8");
}

TEST(SubnetTest, BareAddressIsASingleHost) {
  EXPECT_EQ(Subnet::Parse("192.0.2.7")->ToString(), "192.0.2.7/32");
  EXPECT_EQ(Subnet::Parse("2001:db8::1")->ToString(), "2001:db8::1/128");
  EXPECT_TRUE(Subnet::Parse("192.0.2.7")->Contains(At("192.0.2.7:1")));
  EXPECT_FALSE(Subnet::Parse("192.0.2.7")->Contains(At("192.0.2.8:1")));
}

TEST(SubnetTest, ContainsExactlyTheAddressesUnderThePrefix) {
  Subnet ten = *Subnet::Parse("10.0.0.0/8");
  EXPECT_TRUE(ten.Contains(At("10.0.0.0:0")));
  EXPECT_TRUE(ten.Contains(At("10.255.255.255:4222")));
  EXPECT_FALSE(ten.Contains(At("11.0.0.0:4222")));
  EXPECT_FALSE(ten.Contains(At("9.255.255.255:4222")));
  // A prefix that ends inside a byte.
  Subnet private172 = *Subnet::Parse("172.16.0.0/12");
  EXPECT_TRUE(private172.Contains(At("172.31.255.1:1")));
  EXPECT_FALSE(private172.Contains(At("172.32.0.1:1")));
  EXPECT_FALSE(private172.Contains(At("172.15.255.1:1")));
  Subnet ula = *Subnet::Parse("fd00::/8");
  EXPECT_TRUE(ula.Contains(At("[fd12:3456::1]:4222")));
  EXPECT_FALSE(ula.Contains(At("[fe80::1]:4222")));
}

TEST(SubnetTest, ZeroLengthPrefixContainsItsWholeFamilyOnly) {
  Subnet all_v4 = *Subnet::Parse("0.0.0.0/0");
  EXPECT_TRUE(all_v4.Contains(At("203.0.113.9:1")));
  EXPECT_FALSE(all_v4.Contains(At("[::1]:1")));
  Subnet all_v6 = *Subnet::Parse("::/0");
  EXPECT_TRUE(all_v6.Contains(At("[2001:db8::5]:1")));
  EXPECT_FALSE(all_v6.Contains(At("127.0.0.1:1")));
}

TEST(SubnetTest, RejectsMalformedInputNamingIt) {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"", "not a numeric"},
      {"10.0.0/8", "not a numeric"},
      {"example.com/8", "not a numeric"},
      {"10.0.0.0/", "prefix length must be a number from 0 to 32"},
      {"10.0.0.0/33", "from 0 to 32"},
      {"10.0.0.0/-1", "from 0 to 32"},
      {"10.0.0.0/8x", "from 0 to 32"},
      {"fd00::/129", "from 0 to 128"},
      {"10.1.0.0/8", "bits set past the /8 prefix"},
      {"fd00::1/64", "bits set past the /64 prefix"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<Subnet> subnet = Subnet::Parse(c.text);
    ASSERT_FALSE(subnet.ok());
    EXPECT_EQ(subnet.status().code(), absl::StatusCode::kInvalidArgument);
    std::string message(subnet.status().message());
    EXPECT_THAT(message, HasSubstr(std::string("'") + c.text + "'"));
    EXPECT_THAT(message, HasSubstr(c.reason));
  }
}

TEST(SubnetTest, EqualSubnetsCompareEqual) {
  EXPECT_EQ(*Subnet::Parse("10.0.0.0/8"), *Subnet::Parse("10.0.0.0/8"));
  EXPECT_NE(*Subnet::Parse("10.0.0.0/8"), *Subnet::Parse("10.0.0.0/16"));
  EXPECT_NE(*Subnet::Parse("10.0.0.0/8"), *Subnet::Parse("11.0.0.0/8"));
}

}  // namespace
}  // namespace kad::net

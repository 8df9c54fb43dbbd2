#include "dht/token_issuer.h"

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
const net::Endpoint kAlice = net::Endpoint::Ipv4({192, 0, 2, 1}, 4000);
const net::Endpoint kBob = net::Endpoint::Ipv4({192, 0, 2, 2}, 4000);

TEST(TokenIssuerTest, AcceptsItsOwnTokenFromTheSameAddress) {
  std::mt19937_64 gen(1);
  TokenIssuer tokens(gen, absl::Minutes(5), kStart);
  std::string token = tokens.Issue(kAlice, kStart);
  EXPECT_TRUE(tokens.Verify(token, kAlice, kStart + absl::Minutes(1)));
  // The port is not part of the binding (BEP 5).
  EXPECT_TRUE(tokens.Verify(token, kAlice.WithPort(5000), kStart));
}

TEST(TokenIssuerTest, RejectsTokensIssuedToAnotherAddress) {
  std::mt19937_64 gen(1);
  TokenIssuer tokens(gen, absl::Minutes(5), kStart);
  EXPECT_FALSE(tokens.Verify(tokens.Issue(kAlice, kStart), kBob, kStart));
  EXPECT_FALSE(tokens.Verify("", kAlice, kStart));
  EXPECT_FALSE(tokens.Verify("12345678", kAlice, kStart));
}

TEST(TokenIssuerTest, TokenSurvivesOneRotationButNotTwo) {
  std::mt19937_64 gen(1);
  TokenIssuer tokens(gen, absl::Minutes(5), kStart);
  std::string token = tokens.Issue(kAlice, kStart);
  EXPECT_TRUE(tokens.Verify(token, kAlice, kStart + absl::Minutes(6)));
  EXPECT_FALSE(tokens.Verify(token, kAlice, kStart + absl::Minutes(12)));
}

TEST(TokenIssuerTest, LongIdleGapInvalidatesEverything) {
  std::mt19937_64 gen(1);
  TokenIssuer tokens(gen, absl::Minutes(5), kStart);
  std::string token = tokens.Issue(kAlice, kStart);
  EXPECT_FALSE(tokens.Verify(token, kAlice, kStart + absl::Hours(1)));
}

}  // namespace
}  // namespace kad::dht

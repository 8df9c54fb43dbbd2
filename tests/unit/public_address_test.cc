#include "dht/public_address.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

net::Endpoint At(std::string_view text) { return *net::Endpoint::Parse(text); }

// A reporter in /24 number `subnet` (198.18.subnet.host).
net::Endpoint Reporter(int subnet, int host = 1, int port = 4222) {
  return At(absl::StrCat("198.18.", subnet, ".", host, ":", port));
}

TEST(PublicAddressTest, DecidesWhatAMajorityOfPrefixesReports) {
  PublicAddress learnt({}, {});
  EXPECT_EQ(learnt.Decided(), std::nullopt);
  for (int subnet = 0; subnet < 3; ++subnet) {
    learnt.Report(Reporter(subnet), At("203.0.113.9:50000"));
  }
  EXPECT_EQ(learnt.Decided(), At("203.0.113.9:0"));
}

TEST(PublicAddressTest, OneHostsManyVotesCountOnce) {
  PublicAddress learnt({}, {});
  // One host (and its /24) claims a lie from many sockets...
  for (int i = 0; i < 50; ++i) {
    learnt.Report(Reporter(7, 1 + i % 3, 1000 + i), At("198.51.100.66:1"));
  }
  // ...two other prefixes tell the truth: the lie is one vote against two,
  // short of the three votes a decision needs.
  learnt.Report(Reporter(1), At("203.0.113.9:4222"));
  learnt.Report(Reporter(2), At("203.0.113.9:4223"));
  EXPECT_EQ(learnt.votes(), 3u);
  EXPECT_EQ(learnt.Decided(), std::nullopt);
  learnt.Report(Reporter(3), At("203.0.113.9:4222"));
  EXPECT_EQ(learnt.Decided(), At("203.0.113.9:0"));
}

TEST(PublicAddressTest, ATieDecidesNothing) {
  PublicAddress learnt({}, {});
  for (int subnet = 0; subnet < 6; ++subnet) {
    learnt.Report(Reporter(subnet),
                  At(subnet % 2 == 0 ? "203.0.113.9:1" : "203.0.113.10:1"));
  }
  EXPECT_EQ(learnt.Decided(), std::nullopt);
}

TEST(PublicAddressTest, ALaterReportReplacesItsPrefixsVote) {
  PublicAddress learnt({}, {});
  for (int subnet = 0; subnet < 3; ++subnet) {
    learnt.Report(Reporter(subnet), At("203.0.113.9:1"));
  }
  for (int subnet = 0; subnet < 3; ++subnet) {
    learnt.Report(Reporter(subnet, 2), At("203.0.113.44:1"));  // We moved.
  }
  EXPECT_EQ(learnt.votes(), 3u);
  EXPECT_EQ(learnt.Decided(), At("203.0.113.44:0"));
}

TEST(PublicAddressTest, IgnoresAddressesIdsCannotBeBoundTo) {
  PublicAddress learnt({}, {});
  for (int subnet = 0; subnet < 5; ++subnet) {
    learnt.Report(Reporter(subnet), At("10.0.0.1:4222"));
    learnt.Report(Reporter(subnet), At("127.0.0.1:4222"));
  }
  EXPECT_EQ(learnt.votes(), 0u);
  EXPECT_EQ(learnt.Decided(), std::nullopt);
}

TEST(PublicAddressTest, KeepsAtMostMaxVotesTheNewestWinning) {
  PublicAddress learnt({.min_votes = 3, .max_votes = 16}, {});
  for (int subnet = 0; subnet < 100; ++subnet) {
    learnt.Report(Reporter(subnet), At("203.0.113.9:1"));
  }
  for (int subnet = 100; subnet < 109; ++subnet) {
    learnt.Report(Reporter(subnet), At("203.0.113.44:1"));
  }
  EXPECT_EQ(learnt.votes(), 16u);
  EXPECT_EQ(learnt.Decided(), At("203.0.113.44:0"));  // 9 of 16.
}

}  // namespace
}  // namespace kad::dht

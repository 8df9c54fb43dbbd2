#include "dht/recent_rtts.h"

#include <array>

#include "gtest/gtest.h"
#include "net/endpoint.h"

namespace kad::dht {
namespace {

net::Endpoint Peer(uint8_t n) {
  return net::Endpoint::Ipv4({10, 0, 0, n}, 4222);
}

absl::Duration Ms(int64_t n) { return absl::Milliseconds(n); }

TEST(RecentRttsTest, UnmeasuredPeerHasNoEstimator) {
  RecentRtts rtts(4);
  EXPECT_EQ(rtts.Find(Peer(1)), nullptr);
  EXPECT_EQ(rtts.size(), 0u);
}

TEST(RecentRttsTest, FoldsSamplesIntoThePeersEstimator) {
  RecentRtts rtts(4);
  rtts.AddSample(Peer(1), Ms(100));
  rtts.AddSample(Peer(2), Ms(300));
  rtts.AddSample(Peer(1), Ms(100));
  ASSERT_NE(rtts.Find(Peer(1)), nullptr);
  EXPECT_EQ(rtts.Find(Peer(1))->smoothed(), Ms(100));
  EXPECT_EQ(rtts.Find(Peer(2))->smoothed(), Ms(300));
  EXPECT_EQ(rtts.size(), 2u);
}

TEST(RecentRttsTest, TellsApartPortsAddressesAndFamilies) {
  // Peers are keyed compactly: every part of the endpoint still counts.
  std::array<uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  std::array<uint8_t, 16> v6_other = v6;
  v6_other[15] = 1;
  const net::Endpoint peers[] = {
      net::Endpoint::Ipv4({10, 0, 0, 1}, 4222),
      net::Endpoint::Ipv4({10, 0, 0, 1}, 4223),
      net::Endpoint::Ipv4({10, 0, 1, 0}, 4222),
      net::Endpoint::Ipv6(v6, 4222),
      net::Endpoint::Ipv6(v6_other, 4222),
      net::Endpoint::Ipv6(v6, 4223),
  };
  RecentRtts rtts(8);
  for (int i = 0; i < 6; ++i) rtts.AddSample(peers[i], Ms(100 * (i + 1)));
  EXPECT_EQ(rtts.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    ASSERT_NE(rtts.Find(peers[i]), nullptr) << i;
    EXPECT_EQ(rtts.Find(peers[i])->smoothed(), Ms(100 * (i + 1))) << i;
  }
}

TEST(RecentRttsTest, ForgetsTheLeastRecentlyMeasuredPeerWhenFull) {
  RecentRtts rtts(3);
  for (uint8_t n = 1; n <= 3; ++n) rtts.AddSample(Peer(n), Ms(n));
  rtts.AddSample(Peer(1), Ms(1));  // 2 is now the least recently measured.
  rtts.AddSample(Peer(4), Ms(4));
  EXPECT_EQ(rtts.size(), 3u);
  EXPECT_EQ(rtts.Find(Peer(2)), nullptr);
  EXPECT_NE(rtts.Find(Peer(1)), nullptr);
  EXPECT_NE(rtts.Find(Peer(3)), nullptr);
  EXPECT_NE(rtts.Find(Peer(4)), nullptr);
}

TEST(RecentRttsTest, TimeoutBacksOffATrackedPeerOnly) {
  const RttBounds bounds;
  RecentRtts rtts(2);
  rtts.AddSample(Peer(1), Ms(100));
  const absl::Duration before = rtts.Find(Peer(1))->Timeout(bounds);
  rtts.OnTimeout(Peer(1));
  rtts.OnTimeout(Peer(9));  // Untracked: nothing to do, nothing added.
  EXPECT_EQ(rtts.Find(Peer(1))->Timeout(bounds), 2 * before);
  EXPECT_EQ(rtts.Find(Peer(9)), nullptr);
  EXPECT_EQ(rtts.size(), 1u);
}

}  // namespace
}  // namespace kad::dht

#include "dht/recent_rtts.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "absl/hash/hash.h"

namespace kad::dht {

RecentRtts::RecentRtts(size_t capacity) : capacity_(capacity) {
  assert(capacity > 0);
}

static_assert(sizeof(RttEstimator) == 12 && alignof(RttEstimator) <= 4);

uint64_t RecentRtts::KeyOf(const net::Endpoint& peer) {
  if (peer.family() == net::Family::kIpv6) {
    return absl::HashOf(peer) | (uint64_t{1} << 63);
  }
  uint32_t address = 0;
  std::memcpy(&address, peer.address().data(), sizeof address);
  return (uint64_t{address} << 16) | peer.port();
}

size_t RecentRtts::PositionOf(uint64_t key) const {
  const uint32_t high = static_cast<uint32_t>(key >> 32);
  const uint32_t low = static_cast<uint32_t>(key);
  // Newest last, and recent peers are the likeliest to be asked about.
  for (size_t i = peers_.size(); i-- > 0;) {
    if (peers_[i].key_low == low && peers_[i].key_high == high) return i;
  }
  return peers_.size();
}

const RttEstimator* RecentRtts::Find(const net::Endpoint& peer) const {
  const size_t pos = PositionOf(KeyOf(peer));
  return pos == peers_.size() ? nullptr : &peers_[pos].rtt;
}

void RecentRtts::AddSample(const net::Endpoint& peer, absl::Duration rtt) {
  const uint64_t key = KeyOf(peer);
  const size_t pos = PositionOf(key);
  Peer measured{static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key),
                {}};
  if (pos < peers_.size()) {
    measured = peers_[pos];
    peers_.erase(peers_.begin() + static_cast<ptrdiff_t>(pos));
  } else if (peers_.size() == capacity_) {
    peers_.erase(peers_.begin());
  } else if (peers_.size() == peers_.capacity()) {
    // Grow by doubling, but never past capacity_.
    peers_.reserve(std::min(capacity_, std::max<size_t>(4, 2 * peers_.size())));
  }
  measured.rtt.AddSample(rtt);
  peers_.push_back(measured);
}

void RecentRtts::OnTimeout(const net::Endpoint& peer) {
  const size_t pos = PositionOf(KeyOf(peer));
  if (pos < peers_.size()) peers_[pos].rtt.OnTimeout();
}

}  // namespace kad::dht

#include "dht/recent_rtts.h"

#include <algorithm>
#include <cassert>

namespace kad::dht {

RecentRtts::RecentRtts(size_t capacity) : capacity_(capacity) {
  assert(capacity > 0);
}

size_t RecentRtts::PositionOf(const net::Endpoint& peer) const {
  // Newest last, and recent peers are the likeliest to be asked about.
  for (size_t i = peers_.size(); i-- > 0;) {
    if (peers_[i].endpoint == peer) return i;
  }
  return peers_.size();
}

const RttEstimator* RecentRtts::Find(const net::Endpoint& peer) const {
  const size_t pos = PositionOf(peer);
  return pos == peers_.size() ? nullptr : &peers_[pos].rtt;
}

void RecentRtts::AddSample(const net::Endpoint& peer, absl::Duration rtt) {
  const size_t pos = PositionOf(peer);
  Peer measured{peer, {}};
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
  const size_t pos = PositionOf(peer);
  if (pos < peers_.size()) peers_[pos].rtt.OnTimeout();
}

}  // namespace kad::dht

// RecentRtts: RTT estimators for the peers measured most recently, at most
// `capacity` of them — RpcClient's per-peer timeouts.
//
// A node contacts far more peers than it keeps (every lookup meets ~25,
// mostly strangers), so an estimator per peer ever contacted grows without
// bound; a node in a million-node simulation cannot afford that. Only the
// most recently measured peers keep theirs: the ones a running lookup is
// talking to, and the routing-table contacts that are used again and
// again. A peer that has dropped out gets the all-peers timeout
// (RpcClient) until it is measured again.
//
// Memory: 20 bytes per tracked peer, allocated as peers are added; none
// while empty. Peers are told apart by a 64-bit key: an IPv4 endpoint's
// address and port themselves, an IPv6 endpoint's hash (a collision would
// only share one estimator, whose timeouts stay within RttBounds).
// Lookups scan the (small) list: nothing depends on hash order.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_RECENT_RTTS_H_
#define KAD_DHT_RECENT_RTTS_H_

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "dht/rtt_estimator.h"
#include "net/endpoint.h"

namespace kad::dht {

class RecentRtts {
 public:
  // `capacity` must be positive.
  explicit RecentRtts(size_t capacity);

  // Returns `peer`'s estimator, or nullptr if it is not tracked.
  const RttEstimator* Find(const net::Endpoint& peer) const;
  // Folds in a sample for `peer` and makes it the most recently measured,
  // forgetting the least recently measured peer if that exceeds capacity.
  void AddSample(const net::Endpoint& peer, absl::Duration rtt);
  // Records that a request to `peer` timed out (no-op if not tracked);
  // does not change the order.
  void OnTimeout(const net::Endpoint& peer);

  size_t size() const { return peers_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  // The key in two halves: 20 bytes a peer, not 24.
  struct Peer {
    uint32_t key_high;
    uint32_t key_low;
    RttEstimator rtt;
  };
  static_assert(sizeof(Peer) == 20);
  static uint64_t KeyOf(const net::Endpoint& peer);
  size_t PositionOf(uint64_t key) const;

  size_t capacity_;
  std::vector<Peer> peers_;  // Least recently measured first.
};

}  // namespace kad::dht

#endif  // KAD_DHT_RECENT_RTTS_H_

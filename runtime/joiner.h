// Joiner: joins a node through its seeds, and tries again on a
// dht::RejoinPolicy (capped backoff with jitter) until one of them
// answers; then it is done — a node cut off later starts over on its own
// (dht/node.h).
//
// Each outcome is logged: "joined: N contacts" at info, a failure at warn
// with the delay until the next attempt ("...; serving anyway, retrying in
// 5s"): a node whose seeds are down still serves, since an overlay's first
// node has nobody to join.
//
// Ownership: the node and clock are borrowed and must outlive the joiner;
// destroy the node first (its pending bootstrap callback, which refers to
// the joiner, is then destroyed uncalled). The joiner's own timer is
// cancelled when it is destroyed. Not thread-safe; call from the loop
// thread.
#ifndef KAD_RUNTIME_JOINER_H_
#define KAD_RUNTIME_JOINER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "dht/node.h"
#include "dht/rejoin_policy.h"
#include "dht/split_mix64.h"
#include "dht/timer_set.h"
#include "net/clock.h"
#include "net/endpoint.h"

namespace kad::runtime {

class Joiner {
 public:
  // `seed` seeds the jitter of the retry delays.
  Joiner(dht::Node& node, net::Clock& clock, std::vector<net::Endpoint> seeds,
         dht::RejoinOptions options, uint64_t seed);
  Joiner(const Joiner&) = delete;
  Joiner& operator=(const Joiner&) = delete;

  // Makes the first attempt; with no seeds there is nothing to join (the
  // node starts a new overlay) and joined() stays false. Call once.
  void Start();

  bool joined() const { return joined_; }
  const dht::RejoinPolicy& policy() const { return policy_; }

 private:
  void Attempt();
  void OnResult(const absl::StatusOr<int>& joined);

  dht::Node& node_;
  net::Clock& clock_;
  std::vector<net::Endpoint> seeds_;
  dht::RejoinPolicy policy_;
  dht::SplitMix64 gen_;
  dht::TimerSet timers_;
  bool joined_ = false;
};

}  // namespace kad::runtime

#endif  // KAD_RUNTIME_JOINER_H_

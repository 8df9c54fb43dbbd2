// Lookup: one iterative Kademlia lookup as a pure state machine.
//
// The lookup keeps a shortlist of candidates ordered by XOR distance to
// the target. The owner asks NextToQuery() for whom to ask, sends the
// request, and reports the outcome with OnReply / OnSlow / OnFailure. The
// lookup never does I/O and never reads a clock.
//
// Rules (shared/BRIEF.md section 3):
//  - At most `parallelism` (alpha) requests occupy slots at once; each
//    candidate is asked at most once.
//  - When `parallelism` consecutive replies bring nothing closer than the
//    closest candidate known before them (a round without progress), or
//    one of the k closest candidates replies without progress (the
//    lookup has reached the target's neighbourhood), the lookup asks all
//    of the k closest not yet asked at once, and `spare` more beyond them
//    (so a straggler among the k closest is already covered); progress
//    returns it to alpha.
//  - A slow request (OnSlow: RpcClient's slow mark, 1.3 RTTs, passed)
//    frees its slot and its place among the k closest: the lookup asks
//    the next candidate in its place and may finish without it, on the k
//    closest that answered. Its late reply still counts if it comes before
//    the end (it takes its place back); after the end it misses the
//    driver's map. Once the lookup has widened, the first `spare` slow
//    candidates (in distance order) still take a place for asking, though
//    not for completion: the spares, asked with the widening, already
//    stand in for them, so only a slow candidate beyond the spares makes
//    the lookup ask someone new. One exception keeps the head of the result right: a
//    slow candidate closer than every candidate that replied holds
//    completion until it replies or fails (it may be the closest node of
//    all; ending without it reported the second closest as the closest).
//    The RPC layer bounds that wait (it resends at the slow mark and gives
//    up after a few timeouts).
//  - Done when the k closest candidates that have neither failed nor gone
//    slow have all replied (fewer than k if fewer are left).
//    Measurements behind these rules: docs/BENCH.md, "Lookup latency".
//  - Per-prefix limit (against Sybils): among the candidates in distance
//    order, at most `max_per_subnet` from one /24 (IPv4) or /64 (IPv6)
//    count; the rest are skipped — never asked, never waited for, never
//    returned — unless their address lies in prefix_limit_exempt. A closer
//    candidate from a full prefix pushes that prefix's farthest one out.
//    So twenty ids of one host next to the target cost a lookup at most
//    max_per_subnet of its k places and queries.
//  - Request cap: after `max_requests` requests the lookup asks nobody
//    new, and is done once those sent have replied or failed, whatever the
//    shortlist holds. (The time limit, LookupOptions::deadline, is the
//    driver's: a Lookup reads no clock.)
//
// Hops: a seed is one round trip away; a contact first learned from a
// node n round trips away is n + 1. hops() is that depth for the closest
// node that replied.
//
// Memory: the shortlist holds every contact the lookup has learned, at
// most the seeds plus max_requests replies' worth (a reply fits one
// datagram), as two flat vectors: the candidates in the order learned, and
// their ranks (24 bytes each: the distance as three words and an index)
// sorted by distance. A reply's contacts are binary-searched among the
// compact ranks and inserted with a short memmove (a btree of whole
// candidates keyed by distance spent its time in cache misses: the
// lookup's share of a simulated join's CPU fell from 9.3 % to 5.7 %,
// docs/BENCH.md "Lookup latency").
//
// Not thread-safe.
#ifndef KAD_DHT_LOOKUP_H_
#define KAD_DHT_LOOKUP_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/time/time.h"
#include "dht/contact.h"
#include "dht/kademlia_parameters.h"
#include "dht/node_id.h"
#include "net/subnet.h"

namespace kad::dht {

struct LookupOptions {
  // Kademlia's k: how many closest nodes to find.
  int bucket_size = kDefaultBucketSize;
  int parallelism = kDefaultParallelism;  // Kademlia's alpha: in flight.
  // Candidates from one /24 or /64 that count (see the rules above).
  int max_per_subnet = kDefaultLookupMaxPerSubnet;
  // Borrowed: must outlive the lookup. Default: loopback only.
  std::span<const net::Subnet> prefix_limit_exempt = net::LoopbackSubnets();
  // Requests one lookup may send, widening included. A full lookup sends
  // about 30 (at most 60 for a find_node, 92 for a two-path get, measured at
  // 10,000 nodes, 1 % loss).
  int max_requests = kDefaultLookupMaxRequests;
  // Candidates beyond the k closest asked when the lookup widens (see
  // above): each stands in for a straggler among the k closest, asked
  // before the straggler is known (3: docs/BENCH.md, "Lookup latency").
  int spare = 3;
  // LookupDriver ends a lookup once this long has passed since it
  // started, at its next answer or timeout, with what it has (a lookup
  // normally takes a few RTTs; 1.2 s at most measured at 10,000 nodes,
  // 1 % loss).
  absl::Duration deadline = kDefaultLookupDeadline;
};

class Lookup {
 public:
  // Starts a lookup for `target` from `seeds` (typically the routing
  // table's closest contacts). `self`, if given, is never queried.
  Lookup(const NodeId& target, LookupOptions options,
         std::span<const Contact> seeds,
         std::optional<NodeId> self = std::nullopt);

  // Adds contacts as seeds (one round trip away); those already known
  // keep their state. Returns how many were new.
  int AddSeeds(std::span<const Contact> seeds);

  // Returns the next candidate to ask and marks it in flight, or nullopt
  // when no slot is free or nobody useful is left to ask.
  std::optional<Contact> NextToQuery();

  // `from` answered with `closer` contacts (may be empty).
  void OnReply(const NodeId& from, std::span<const Contact> closer);
  // `from`'s request passed its slow mark: it frees its slot and (unless
  // it is closer than every reply) its place among the k closest; a reply
  // from it still counts until the lookup is done.
  void OnSlow(const NodeId& from);
  // `from` failed for good (gave up, error, wrong answer).
  void OnFailure(const NodeId& from);
  // Another path of a disjoint lookup (dht/disjoint_lookup.h) claimed
  // `id`: this lookup never asks, waits for or returns it, as if it had
  // failed. No effect on a candidate this lookup already asked.
  void Exclude(const NodeId& id);

  bool Done() const;
  // Returns the up to k closest candidates that replied, ascending.
  std::vector<Contact> Closest() const;

  const NodeId& target() const { return target_; }
  int hops() const;
  int requests_sent() const { return requests_sent_; }
  // Whether the request cap stopped the lookup from asking more.
  bool capped() const { return requests_sent_ >= options_.max_requests; }
  int in_flight() const { return in_flight_; }

 private:
  enum class State { kNew, kInFlight, kSlow, kReplied, kFailed };
  struct Candidate {
    Contact contact;
    State state = State::kNew;
    int depth = 1;
    // Beyond its prefix's max_per_subnet closest: skipped (see above).
    bool excess = false;
  };
  // A candidate's place in distance order: its XOR distance to the target
  // (a DistanceKey's words, with the index in candidates_ in their padding:
  // 24 bytes) and its index in candidates_. Distinct ids have distinct
  // distances.
  struct Rank {
    uint64_t high = 0;
    uint64_t middle = 0;
    uint32_t low = 0;
    uint32_t index = 0;

    DistanceKey distance() const { return {high, middle, low}; }
    bool SameDistance(const Rank& other) const {
      return distance() == other.distance();
    }
    bool Closer(const Rank& other) const {
      return distance() < other.distance();
    }
  };
  // Returns the rank of `id` (its index not set).
  Rank RankOf(const NodeId& id) const;
  // Returns the first rank not closer than `rank`.
  std::vector<Rank>::const_iterator LowerBound(const Rank& rank) const;

  // Returns whether the contact was new.
  bool Add(const Contact& contact, int depth);
  // Re-marks which candidates of `endpoint`'s prefix are in excess.
  void LimitPrefixOf(const net::Endpoint& endpoint);
  // Whether the candidate takes part: neither failed nor in excess.
  static bool Counts(const Candidate& candidate) {
    return candidate.state != State::kFailed && !candidate.excess;
  }
  // Whether the candidate holds a place among the k closest, given
  // whether a closer candidate has replied: it counts, and is not slow
  // behind a reply (see the rules above).
  static bool HoldsPlace(const Candidate& candidate, bool closer_replied) {
    return Counts(candidate) &&
           !(candidate.state == State::kSlow && closer_replied);
  }
  Candidate* FindCandidate(const NodeId& id);
  void Settle(Candidate& candidate, State state);
  int SlotLimit() const;
  bool Widened() const;
  // Whether candidate `id` is among the k closest holding a place.
  bool AmongKClosest(const NodeId& id) const;

  NodeId target_;
  LookupOptions options_;
  std::optional<NodeId> self_;
  std::vector<Candidate> candidates_;  // In the order learned.
  std::vector<Rank> ranks_;  // candidates_ by ascending distance.
  int in_flight_ = 0;  // Candidates in kInFlight (holding a slot).
  int requests_sent_ = 0;
  int replies_without_progress_ = 0;
  bool widened_ = false;  // One of the k closest replied without progress.
};

}  // namespace kad::dht

#endif  // KAD_DHT_LOOKUP_H_

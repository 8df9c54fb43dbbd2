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
//    closest candidate known before them (a round without progress), the
//    lookup asks all of the k closest not yet asked at once; progress
//    returns it to alpha.
//  - A slow request (its timeout passed) frees its slot, so the lookup
//    goes on asking other candidates among the k closest, but is not
//    forgotten: a late reply still counts, and until it fails its node
//    keeps its place among the k closest (nobody farther is asked in its
//    place; that cost 8 % more datagrams per join).
//  - Done when the k closest candidates that have not failed have all
//    replied (fewer than k if fewer are left), as the paper has it. A slow
//    one among them holds completion until it replies or fails: ending
//    without it would drop a node that may be the closest of all (with
//    long-tailed RTTs, 2 % of the true k closest were lost that way). The
//    RPC layer bounds the wait (it gives up after a few timeouts) and
//    resends meanwhile, so a lost datagram costs one timeout.
//
// Hops: a seed is one round trip away; a contact first learned from a
// node n round trips away is n + 1. hops() is that depth for the closest
// node that replied.
//
// Not thread-safe.
#ifndef KAD_DHT_LOOKUP_H_
#define KAD_DHT_LOOKUP_H_

#include <optional>
#include <span>
#include <vector>

#include "absl/container/btree_map.h"
#include "dht/contact.h"
#include "dht/kademlia_parameters.h"
#include "dht/node_id.h"

namespace kad::dht {

struct LookupOptions {
  // Kademlia's k: how many closest nodes to find.
  int bucket_size = kDefaultBucketSize;
  int parallelism = kDefaultParallelism;  // Kademlia's alpha: in flight.
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
  // `from`'s request passed its timeout; it stays in flight without a slot.
  void OnSlow(const NodeId& from);
  // `from` failed for good (gave up, error, wrong answer).
  void OnFailure(const NodeId& from);

  bool Done() const;
  // Returns the up to k closest candidates that replied, ascending.
  std::vector<Contact> Closest() const;

  const NodeId& target() const { return target_; }
  int hops() const;
  int requests_sent() const { return requests_sent_; }
  int in_flight() const { return in_flight_; }

 private:
  enum class State { kNew, kInFlight, kSlow, kReplied, kFailed };
  struct Candidate {
    Contact contact;
    State state = State::kNew;
    int depth = 1;
  };
  using Shortlist = absl::btree_map<NodeId, Candidate>;  // Keyed by distance.

  // Returns whether the contact was new.
  bool Add(const Contact& contact, int depth);
  Candidate* FindCandidate(const NodeId& id);
  void Settle(Candidate& candidate, State state);
  int SlotLimit() const;

  NodeId target_;
  LookupOptions options_;
  std::optional<NodeId> self_;
  Shortlist shortlist_;
  int in_flight_ = 0;  // Candidates in kInFlight (holding a slot).
  int requests_sent_ = 0;
  int replies_without_progress_ = 0;
};

}  // namespace kad::dht

#endif  // KAD_DHT_LOOKUP_H_

// DisjointLookup: d iterative lookups of one target over disjoint sets of
// nodes (S/Kademlia, Baumgart and Mies 2007, section 4.4), as one pure
// state machine with the interface of a single Lookup (dht/lookup.h).
//
// Why: a malicious node answers a lookup with other malicious nodes close
// to the target. One such answer early in a single lookup can fill its
// shortlist with colluders, who answer each other's ids until the lookup
// ends without ever reaching an honest replica. With d paths that never
// share a node, the colluders can capture the paths they touch, but every
// node they name is lost to the other paths once one path has asked it:
// a path that meets no adversary, or meets only ones another path already
// asked, still reaches the honest nodes next to the target.
//
// Rules:
//  - Path j (0..d-1) is a Lookup of its own, seeded with the initial
//    contacts j, j + d, j + 2d... in distance order, so every path starts
//    from a share of the closest contacts.
//  - A node belongs to the first path that asks it (a claim): from then on
//    every other path skips it (Lookup::Exclude) and drops it from the
//    answers it learns, so no node is ever asked by two paths and the
//    paths' results are disjoint. A contact merely returned to a path is
//    not claimed: two paths may both know a node, whichever asks it first
//    keeps it. (Claiming on return would let a path that is later
//    captured hoard honest nodes it never asks.) NextToQuery asks the
//    paths in turn, starting after the path that asked last, so which path
//    claims a node depends only on the order of the calls: one simulator
//    seed gives one outcome.
//  - Each path has Kademlia's alpha slots and looks for its own k closest
//    (among the nodes no other path claimed). The request cap,
//    LookupOptions::max_requests, holds for the whole operation: path j
//    may send max_requests / d of them (the remainder to the first paths).
//    The deadline is the driver's and covers all paths alike.
//  - Done when every path is done. Closest() is the k closest of the union
//    of the paths' results (distinct nodes, since the paths are disjoint),
//    with the per-prefix limit (LookupOptions::max_per_subnet) applied to
//    the union as each path applies it to its own: d paths must not let
//    one /24 or /64 into the result d times over. A put stores there and
//    a get read-repairs there (see dht/publisher.h). With d = 1 this is
//    exactly one Lookup.
//
// Memory: besides the paths, a claim per node asked (at most max_requests).
//
// Not thread-safe.
#ifndef KAD_DHT_DISJOINT_LOOKUP_H_
#define KAD_DHT_DISJOINT_LOOKUP_H_

#include <optional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dht/contact.h"
#include "dht/lookup.h"
#include "dht/node_id.h"

namespace kad::dht {

class DisjointLookup {
 public:
  // Starts `paths` (at least 1) lookups of `target`, sharing `seeds` out
  // as above. `self`, if given, is never queried.
  DisjointLookup(const NodeId& target, LookupOptions options, int paths,
                 std::span<const Contact> seeds,
                 std::optional<NodeId> self = std::nullopt);

  // Shares `seeds` out among the paths like the first ones, skipping
  // nodes already claimed. Returns how many were new to their path.
  int AddSeeds(std::span<const Contact> seeds);

  // Returns the next node to ask, claimed for the path that asks it, or
  // nullopt when no path has a free slot and someone to ask.
  std::optional<Contact> NextToQuery();

  // Outcomes of asking `from`, handed to the path that claimed it.
  void OnReply(const NodeId& from, std::span<const Contact> closer);
  void OnSlow(const NodeId& from);
  void OnFailure(const NodeId& from);

  bool Done() const;
  // Returns the up to k closest nodes that replied on any path, ascending.
  std::vector<Contact> Closest() const;

  const NodeId& target() const { return paths_.front().target(); }
  // Hops of the path whose closest replier is the closest of all.
  int hops() const;
  int requests_sent() const;
  int paths() const { return static_cast<int>(paths_.size()); }
  const Lookup& path(int index) const { return paths_[index]; }
  // Returns the path that asked `id`, if one did.
  std::optional<int> PathOf(const NodeId& id) const;

 private:
  // Returns `contacts` without the nodes a path other than `path` claimed.
  std::vector<Contact> Unclaimed(int path,
                                 std::span<const Contact> contacts) const;

  // Returns `sorted` without the nodes beyond the per-prefix limit.
  std::vector<Contact> LimitPrefixes(std::vector<Contact> sorted) const;

  LookupOptions options_;
  std::vector<Lookup> paths_;
  // Node -> the path that asked it. Empty with a single path.
  absl::flat_hash_map<NodeId, int> claims_;
  int next_path_ = 0;  // Where NextToQuery starts its turn.
  int next_seed_path_ = 0;  // Which path AddSeeds gives the next seed.
};

}  // namespace kad::dht

#endif  // KAD_DHT_DISJOINT_LOOKUP_H_

// Replicator: decides which held records a node offers to whom — the pure
// half of record maintenance. The node sends the offers it plans, and
// pushes (as Store) only the records the peer says it wants
// (dht/replication_driver.h); RequestHandler answers offers.
//
// Two triggers:
//
//  - Rounds. Every NodeOptions::replicate_interval, jittered per node so
//    the overlay does not pulse (see NextRoundDelay), each held record is
//    offered to the k nodes closest to its key id that the routing table
//    knows, this node counting as one of the candidates (it never offers to
//    itself). The routing table, not a lookup, names them: a node holds a
//    record because it was among the k closest to the key, and the k
//    closest to such a key lie in this node's own neighbourhood, which its
//    table knows completely (the buckets near our id hold fewer than k
//    nodes each, and a joining neighbour's self-lookup reaches us, so we
//    ping and admit it). A find_node lookup per record would cost 20-30
//    RPCs, more bytes than the offers themselves. For a record held far
//    from its key (we were pushed out of its k closest), the recipients are
//    closer to the key and know its neighbourhood better: their own rounds
//    carry the record on.
//    A record some node offered us since our previous round, at the version
//    we hold, is skipped this round: as in the Kademlia paper's republish
//    optimisation, one replica per record normally does a round's work
//    instead of all k. (A peer that offers our version and then does not
//    replicate can delay a record's round; it would have to do so to every
//    replica, every round, and hand-offs are never skipped.)
//
//  - Hand-offs. A contact newly admitted to the routing table is queued
//    (QueueHandoff); a short delay later the node plans the whole queue at
//    once (PlanHandoffs): each held record is offered to the queued contacts
//    that are now among the k closest this node knows for its key. So a
//    node that joins close to a key receives its record from the replicas
//    that admit it, without waiting for a round.
//    A node that holds nothing when it admits a contact (every node of a
//    growing overlay, for hundreds of contacts) does not list its id: the
//    queue keeps only when the first such contact came, and the plan also
//    takes every table entry seen since then. That is a superset (an
//    entry's last-seen time only grows), so a record that arrives within
//    the delay still reaches the contacts admitted before it, and a
//    million growing nodes hold no lists (~4 KB per node at the end of a
//    20,000-node protocol join).
//
// Offers are batched per peer: as many summaries as fit one datagram
// (OfferSummaryBytes, kMaxOfferSummaries), peers in ascending id order and
// summaries in the order given (the store's key order), so a seed
// reproduces the plan.
//
// Not thread-safe; call from the loop thread. Pure: time and randomness
// come in as arguments, the table is only read.
#ifndef KAD_DHT_REPLICATOR_H_
#define KAD_DHT_REPLICATOR_H_

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/time/time.h"
#include "dht/contact.h"
#include "dht/message.h"
#include "dht/node_id.h"
#include "dht/routing_table.h"
#include "storage/record.h"

namespace kad::dht {

// One offer datagram to send.
struct OfferPlan {
  Contact peer;
  Offer offer;
  friend bool operator==(const OfferPlan&, const OfferPlan&) = default;
};

// Returns the summary an offer carries for `record`.
RecordSummary SummaryOf(const storage::Record& record);

class Replicator {
 public:
  // Contacts queued for hand-off beyond this many are dropped; the next
  // round reaches them instead.
  static constexpr size_t kMaxQueuedHandoffs = 256;

  // `bucket_size` is Kademlia's k, the number of replicas (at least 1).
  Replicator(const NodeId& self, int bucket_size);

  // Returns the delay until this node's next round: `interval` scaled by a
  // factor drawn from [0.5, 1.5) for the first round (nodes started
  // together spread out) and from [0.9, 1.1) after that.
  absl::Duration NextRoundDelay(absl::Duration interval, absl::BitGenRef gen);

  // Plans one round over `held` (the node's live records, in ascending key
  // order): each record not covered by an offer received since the last
  // round goes to the k closest known for its key. Forgets the offers
  // received, so the next round judges only by newer ones.
  std::vector<OfferPlan> PlanRound(const std::vector<RecordSummary>& held,
                                   const RoutingTable& table);

  // Notes that a peer offered us `offer` and we answered `reply`: a round
  // skips the records we did not want (we hold the offered version or a
  // newer one, so the offerer is replicating them too). Summaries we
  // wanted are not trusted: a peer could claim a newer version it never
  // sends, only to silence our rounds.
  void NoteOffered(const Offer& offer, const OfferReply& reply);

  // Queues a contact admitted at `now` for hand-off; `holding` says whether
  // the node holds any record now (if not, the id is not listed: see the
  // class comment). `holding` is asked only when the answer matters: while
  // the queue already takes every entry seen since an unlisted admission,
  // the contact is covered and nothing is asked (a growing node admits
  // hundreds of contacts, and asking the store is a cache miss each).
  // Returns true if the queue was empty, i.e. the caller should schedule
  // PlanHandoffs.
  bool QueueHandoff(const Contact& contact, absl::Time now,
                    absl::FunctionRef<bool()> holding);

  // Plans the queued hand-offs over `held` (as for PlanRound): each record
  // goes to the queued contacts (listed, or table entries seen since the
  // first unlisted one came) that are among the k closest known for its
  // key. Empties the queue.
  std::vector<OfferPlan> PlanHandoffs(const std::vector<RecordSummary>& held,
                                      const RoutingTable& table);

  // Listed ids; contacts queued while holding nothing are not counted.
  size_t queued_handoffs() const { return handoffs_.size(); }

 private:
  // The k closest to `key_id` among the table's contacts and this node,
  // without this node.
  std::vector<Contact> Replicas(const NodeId& key_id,
                                const RoutingTable& table) const;

  NodeId self_;
  size_t replicas_;
  bool first_round_ = true;
  // Key -> the newest version offered to us since the last round. Only
  // looked up, never iterated.
  absl::flat_hash_map<std::string, storage::RecordVersion> offered_;
  // Ids only, in admission order, no id twice: plans take endpoints from
  // the table. (A node admits hundreds of contacts while it joins; the
  // queue held ~5 KB per simulated node as whole contacts.)
  std::vector<NodeId> handoffs_;
  // When the first contact queued while holding nothing came; unset once
  // planned.
  std::optional<absl::Time> unlisted_since_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_REPLICATOR_H_

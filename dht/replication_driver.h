// ReplicationDriver: record maintenance on the network — sends the offers
// dht/replicator.h plans (periodic rounds, hand-offs to newly admitted
// contacts) and pushes, as store with the token the peer handed back, only
// the records the peer said it wants. An unchanged record costs a summary,
// never its value.
//
// Pacing: maintenance never floods a peer or the node's own socket. The
// datagrams it sends (offers and pushed stores) are paced by a token
// bucket (ReplicationOptions::pace), and each peer has one exchange at a
// time: its next offer waits until the answer to the last, and the stores
// it asked for, have come back (or failed). A node holding 200,000 records
// that meets one new neighbour thus sends it 5,000 offers over a minute
// or so instead of in one burst whose timeouts would be charged to the
// neighbour and evict it. Peers take turns, first come first served.
//
// Accounting: the node that offers counts the whole exchange in
// NodeStats::maintenance_bytes through the RPC traffic hook, as lookups
// count theirs — its offers and pushed stores as sent (resends included)
// and the replies to them as received — so an overlay's total is the sum
// over its nodes, each byte counted once.
//
// Ownership: every collaborator is borrowed and must outlive the driver.
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_REPLICATION_DRIVER_H_
#define KAD_DHT_REPLICATION_DRIVER_H_

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/time/time.h"
#include "dht/kademlia_parameters.h"
#include "dht/message.h"
#include "dht/node_stats.h"
#include "dht/replicator.h"
#include "dht/requester.h"
#include "dht/routing_table.h"
#include "dht/timer_set.h"
#include "dht/token_bucket.h"
#include "net/clock.h"
#include "storage/record_store.h"

namespace kad::dht {

struct ReplicationOptions {
  int bucket_size = kDefaultBucketSize;  // Kademlia's k: replicas per record.
  // Between rounds (dht/node.h); non-positive or infinite: no rounds.
  absl::Duration replicate_interval = absl::Hours(1);
  // From a contact's admission to its hand-off; infinite: no hand-offs.
  absl::Duration handoff_delay = absl::Seconds(10);
  // Maintenance datagrams (offers and pushed stores) per second, and the
  // burst; nullopt: unpaced. 100/s of at most 1,280 bytes is 128 KB/s.
  std::optional<RateLimit> pace = RateLimit{100, 100};
};

class ReplicationDriver {
 public:
  ReplicationDriver(ReplicationOptions options, const NodeId& self,
                    const RoutingTable& routing_table, Requester& requester,
                    const storage::RecordStore& store, net::Clock& clock,
                    NodeStats& stats, absl::BitGenRef gen);
  ReplicationDriver(const ReplicationDriver&) = delete;
  ReplicationDriver& operator=(const ReplicationDriver&) = delete;

  // Schedules the first round (and each round the next).
  void Start();
  // Queues a contact just admitted to the routing table for a hand-off.
  void OnContactAdded(const Contact& contact);
  // Notes an offer we answered, so our next round can skip what it held.
  void NoteOffered(const Offer& offer, const OfferReply& reply) {
    replicator_.NoteOffered(offer, reply);
  }

 private:
  void ScheduleRound();
  void Round();
  void FlushHandoffs();
  std::vector<RecordSummary> HeldSummaries() const;
  // Queues an offer; Pump sends it when the pace and the peer allow.
  void Enqueue(OfferPlan plan);
  void Pump();
  void SendOffer(OfferPlan plan);
  void OnOfferAnswer(const Contact& peer, const std::vector<std::string>& keys,
                     const absl::StatusOr<Message>& answer);
  // Sends `body` to `peer`, its bytes and its reply's counted as
  // maintenance, and the peer busy until the reply.
  void Send(const Contact& peer, Body body,
            absl::AnyInvocable<void(absl::StatusOr<Message>)> on_done);
  // Notes that one request to `peer` finished; its next offer may go.
  void OnExchangeDone(const NodeId& peer);

  ReplicationOptions options_;
  const RoutingTable& routing_table_;
  Requester& requester_;
  const storage::RecordStore& store_;
  net::Clock& clock_;
  NodeStats& stats_;
  absl::BitGenRef gen_;
  Replicator replicator_;
  // Offers waiting, per peer, and the peers with offers waiting and no
  // request in flight, in turn order (a vector and its head, so an idle
  // node holds no allocation).
  absl::flat_hash_map<NodeId, std::deque<OfferPlan>> queued_;
  std::vector<NodeId> turns_;
  size_t turns_head_ = 0;
  absl::flat_hash_map<NodeId, int> in_flight_;  // Requests per busy peer.
  TokenBucket pace_;
  int64_t pace_ready_ns_ = TokenBucket::kFull;
  bool pump_scheduled_ = false;
  TimerSet timers_;  // Last: cancelled before anything they refer to goes.
};

}  // namespace kad::dht

#endif  // KAD_DHT_REPLICATION_DRIVER_H_

// RequestHandler: answers the requests (ping, find_node, find_value, store,
// stats, offer) from this node's routing table and record store; stats
// requests go to the StatsService.
//
// An offer is answered with the indices of the summaries whose record this
// node lacks or holds an older version of (storage::RecordVersion order),
// and, if it wants any, a write token for the stores that bring them.
//
// A store first passes StoreAdmission (dht/store_admission.h), if the node
// has one: a newcomer key is refused with kNotClosest when the node knows
// 2k contacts closer to it, with kSourceQuota when the source's prefix
// holds its share. Then it goes through dht/record_auth.h's StoreVerified:
// a record that does not prove itself is refused with kRecordRejected; one
// that loses to the version held (or fails its compare-and-swap) with
// kConflict carrying the held seq; one the store has no room for with
// kStoreFull. Every refusal is counted by code (NodeStats::stores_refused).
// An offer is answered by the same admission rules: records that would be
// refused are not asked for.
//
// Pure: it computes the response body for a decoded request and updates
// the store; the node decides whether to answer at all, sends the result,
// and does the routing-table bookkeeping for the requester.
//
// Ownership: every collaborator is borrowed and must outlive the handler.
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_REQUEST_HANDLER_H_
#define KAD_DHT_REQUEST_HANDLER_H_

#include "absl/time/time.h"
#include "dht/message.h"
#include "dht/node_stats.h"
#include "dht/record_auth.h"
#include "dht/routing_table.h"
#include "dht/stats_service.h"
#include "dht/store_admission.h"
#include "dht/token_issuer.h"
#include "net/endpoint.h"
#include "storage/record_store.h"

namespace kad::dht {

class RequestHandler {
 public:
  // `admission` may be null: every store that proves itself is taken.
  RequestHandler(int bucket_size, const RoutingTable& routing_table,
                 storage::RecordStore& store, TokenIssuer& tokens,
                 NodeStats& stats, const StatsService& stats_service,
                 StoreAdmission* admission);

  // Returns the response body for `request` (which must be a request)
  // received from `from`.
  Body Handle(const Message& request, const net::Endpoint& from,
              absl::Time now);

  // Returns the answer to a store that Handle() answered Stored but whose
  // record the store's commit then undid with `commit` (the node holds
  // such answers back until the commit: dht/group_committer.h), and
  // counts that store as rejected instead of accepted.
  Error CommitFailed(const absl::Status& commit);

 private:
  std::vector<Contact> ClosestFor(const NodeId& target,
                                  const std::optional<NodeId>& requester) const;
  // Trims `value.closest` so that the response, record included, fits in
  // one datagram.
  void FitInDatagram(Value& value, absl::Time now) const;
  Body HandleStore(const Store& store, const net::Endpoint& from,
                   absl::Time now);
  // Returns the refusal of StoreAdmission for `record` from `from`, if any.
  std::optional<Error> AdmissionRefusal(const storage::Record& record,
                                        const net::Endpoint& from,
                                        absl::Time now);
  // Returns the error answering a store the store refused.
  static Error RefusalFor(const StoreVerdict& verdict);
  // Counts `refusal` (a refused store) and returns it.
  Error Refuse(Error refusal);
  Body HandleOffer(const Offer& offer, const net::Endpoint& from,
                   absl::Time now);

  size_t contacts_per_reply_;
  const RoutingTable& routing_table_;
  storage::RecordStore& store_;
  TokenIssuer& tokens_;
  NodeStats& stats_;
  const StatsService& stats_service_;
  StoreAdmission* admission_;  // Null: no store admission.
};

}  // namespace kad::dht

#endif  // KAD_DHT_REQUEST_HANDLER_H_

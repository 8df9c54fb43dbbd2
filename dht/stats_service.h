// StatsService: answers stats requests (`kad stats`) with a snapshot of this
// node's counters, to the requesters allowed to see them; and turns the
// answer to a stats request of our own into a StatsReport.
//
// Access: a requester on a loopback address, or inside one of the `allow`
// subnets (NodeOptions::stats_allow), gets a StatsReply; anyone else gets
// Error{kForbidden}. Counters say how a node is used and how it is doing, so
// they are not for everyone on the network. (Read-only nodes answer nothing,
// stats included: the node never hands them the request.)
//
// Ownership: every collaborator is borrowed and must outlive the service.
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_STATS_SERVICE_H_
#define KAD_DHT_STATS_SERVICE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dht/latency_window.h"
#include "dht/message.h"
#include "dht/node_id.h"
#include "dht/node_stats.h"
#include "dht/request_gate.h"
#include "dht/routing_table.h"
#include "net/endpoint.h"
#include "net/subnet.h"
#include "storage/record_store.h"

namespace kad::dht {

// A node's counters as another node reported them (Node::Stats).
struct StatsReport {
  NodeId id;              // The node that answered.
  net::Endpoint address;  // Where it was asked.
  StatsReply stats;       // Its counters (dht/message.h).
};

class StatsService {
 public:
  // The reason a refused requester is given.
  static constexpr char kForbiddenReason[] =
      "stats are served to loopback only (see --stats-allow)";

  // `started` is when the node started: uptime counts from it. `gate` is
  // read only by Snapshot (it may be constructed after the service).
  StatsService(std::vector<net::Subnet> allow, absl::Time started,
               const RoutingTable& routing_table,
               const storage::RecordStore& store, const NodeStats& stats,
               const LatencyWindow& lookup_latency, const RequestGate& gate);

  // Returns whether `requester` may see this node's stats.
  bool Allows(const net::Endpoint& requester) const;

  // Returns the response body to a stats request from `requester`: the
  // counters as of `now`, or Error{kForbidden}.
  Body Answer(const net::Endpoint& requester, absl::Time now) const;

  // Returns the counters as of `now`.
  StatsReply Snapshot(absl::Time now) const;

 private:
  std::vector<net::Subnet> allow_;
  absl::Time started_;
  const RoutingTable& routing_table_;
  const storage::RecordStore& store_;
  const NodeStats& stats_;
  const LatencyWindow& lookup_latency_;
  const RequestGate& gate_;
};

// Turns the answer to a stats request sent to `node` into a report.
// Errors: the request's own error (DeadlineExceeded...); PermissionDenied,
// naming the node and giving its reason, if the node refused; Unavailable
// for any other error answer, or an answer without a sender id.
absl::StatusOr<StatsReport> ToStatsReport(const net::Endpoint& node,
                                          absl::StatusOr<Message> answer);

}  // namespace kad::dht

#endif  // KAD_DHT_STATS_SERVICE_H_

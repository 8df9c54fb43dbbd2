// NodeStats: a node's counters, for `kad stats`, benchmarks and tests.
//
// Plain data; the node increments it on the loop thread.
#ifndef KAD_DHT_NODE_STATS_H_
#define KAD_DHT_NODE_STATS_H_

#include <array>
#include <cstdint>

namespace kad::dht {

// The number of MessageType values (dht/message.h checks it).
inline constexpr size_t kMessageTypeCount = 13;
// The number of ErrorCode wire values, 0 (unused) included (dht/message.h
// checks it).
inline constexpr size_t kErrorCodeCount = 10;

struct NodeStats {
  uint64_t datagrams_in = 0;
  uint64_t bytes_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t bytes_out = 0;
  uint64_t malformed_in = 0;     // Undecodable datagrams, dropped.
  uint64_t unmatched_responses = 0;  // No pending request, or wrong sender.
  uint64_t send_errors = 0;
  // Indexed by MessageType value.
  std::array<uint64_t, kMessageTypeCount> messages_in{};
  std::array<uint64_t, kMessageTypeCount> messages_out{};
  uint64_t rpc_timeouts = 0;     // Soft: the timeout passed, still waiting.
  uint64_t rpc_retransmits = 0;  // Requests sent again after a timeout.
  uint64_t rpc_failures = 0;     // Given up.
  uint64_t lookups_started = 0;
  uint64_t lookups_finished = 0;
  uint64_t stores_accepted = 0;
  uint64_t stores_rejected = 0;   // The sum of stores_refused.
  // Refused stores by the ErrorCode of the refusal (kConflict: newer
  // version held or CAS failed; kNotClosest and kSourceQuota: store
  // admission, dht/store_admission.h; ...), indexed by its wire value.
  std::array<uint64_t, kErrorCodeCount> stores_refused{};
  // Records a get received that failed verification (forged, tampered,
  // for another key, or an open record where a proven one was asked).
  uint64_t records_unverified = 0;
  // Replication (dht/replicator.h), counted by the node that offers.
  uint64_t replication_rounds = 0;  // Periodic rounds run.
  uint64_t offers_sent = 0;         // Offer datagrams...
  uint64_t summaries_offered = 0;   // ...and the record summaries in them.
  uint64_t records_pushed = 0;      // Stores sent because a peer wanted them.
  // Wire bytes of the replication exchanges this node started: its offers
  // and pushed stores, and the replies to them (UDP/IP headers excluded).
  uint64_t maintenance_bytes = 0;
  // Abuse resistance (dht/request_gate.h): requests dropped unanswered by
  // the per-source limits, and replies not sent because the destination
  // was over its reply budget (with their bytes). Details by reason in
  // Node::gate_stats().
  uint64_t requests_refused = 0;
  uint64_t replies_withheld = 0;
  uint64_t reply_bytes_withheld = 0;
};

}  // namespace kad::dht

#endif  // KAD_DHT_NODE_STATS_H_

// What the node's operations (dht/node.h) return: plain values.
//
// Thread-safe: immutable value types.
#ifndef KAD_DHT_OPERATION_RESULTS_H_
#define KAD_DHT_OPERATION_RESULTS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "dht/contact.h"
#include "dht/node_id.h"
#include "dht/node_stats.h"
#include "storage/record.h"

namespace kad::dht {

struct PingResult {
  NodeId id;
  absl::Duration rtt;
};

struct ContactInfo {
  Contact contact;
  absl::Duration rtt;  // Smoothed RTT, or ZeroDuration if never measured.
};

// What one lookup did.
struct LookupStats {
  int hops = 0;       // Round trips to reach the closest node found.
  int rpcs = 0;       // Requests sent.
  int failures = 0;   // Requests that timed out or failed.
  absl::Duration elapsed;
  uint64_t bytes = 0;  // Request and response datagram bytes of this lookup.
};

struct LookupResult {
  std::vector<ContactInfo> closest;  // Ascending XOR distance, at most k.
  LookupStats stats;
};

struct PutResult {
  NodeId key_id;
  uint64_t seq = 0;
  int stored = 0;     // Nodes that really stored it (including this node).
  int attempted = 0;  // Nodes asked to store.
  int conflicts = 0;  // Nodes that refused: newer version held, CAS failed.
  // The highest seq a conflicting node said it holds.
  std::optional<uint64_t> held_seq;
  // Nodes that refused for another reason than a conflict, by the
  // ErrorCode wire value of their answer (dht/message.h: not_closest,
  // source_quota, store_full...). Nodes that never answered are the rest:
  // attempted - stored - conflicts - the sum of these.
  std::array<int, kErrorCodeCount> refused{};
  LookupStats stats;
};

struct GetResult {
  storage::Record record;
  int replicas = 0;   // Replicas that answered with exactly this record.
  int repaired = 0;   // Replicas sent the record by read repair.
  LookupStats stats;
};

}  // namespace kad::dht

#endif  // KAD_DHT_OPERATION_RESULTS_H_

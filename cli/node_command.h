// `kad node`: a long-lived node. Binds --listen, prints "id <hex>" and
// "listening <address>" on stdout (one line each, flushed, for scripts)
// once SIGINT and SIGTERM are handled, joins through --bootstrap, serves
// until one of those signals, and exits 0.
//
// The node runs on a runtime::NodeRuntime (runtime/node_runtime.h), which
// logs its counters every kStatsLogInterval. With --data-dir
// (runtime/data_dir.h), records live in an LMDB store there, beside the
// records the node put (which it goes on republishing), its id and its
// routing-table contacts (saved soon after start, every
// runtime::kContactSavePeriod and on shutdown): restarted without
// --bootstrap, it comes back with the same id and rejoins through its
// saved contacts.
//
// With --metrics, the node also serves GET /metrics (Prometheus) from an
// HTTP server on its own threads (cli/metrics_server.h), fed a snapshot of
// the node's counters every kMetricsRefresh by a loop timer, and prints
// "metrics http://<address>/metrics" after the listening line.
//
// A node whose seeds do not answer keeps serving (an overlay's first node
// has none) and tries the join again, with backoff, until one answers
// (dht/rejoin_policy.h).
#ifndef KAD_CLI_NODE_COMMAND_H_
#define KAD_CLI_NODE_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "dht/kademlia_parameters.h"

namespace kad::cli {

inline constexpr absl::Duration kStatsLogInterval = absl::Minutes(1);

struct NodeFlags {
  std::string listen = "0.0.0.0:4222";  // HOST:PORT; port 0 picks one.
  std::vector<std::string> bootstrap;   // HOST:PORT seeds; none: new overlay.
  std::string id;                       // 40 hex digits; empty: random.
  std::string data_dir;                 // Records, id, contacts; "": memory.
  // CIDR subnets (10.0.0.0/8, fd00::/8) whose requesters may ask for our
  // stats; loopback always may.
  std::vector<std::string> stats_allow;
  // CIDR subnets (or "private") whose hosts escape the per-prefix limits of
  // the routing table and lookups, besides loopback: a LAN whose private
  // addresses are distinct hosts.
  std::vector<std::string> prefix_limit_exempt;
  int k = dht::kDefaultBucketSize;       // Kademlia's k.
  int alpha = dht::kDefaultParallelism;  // Kademlia's alpha.
  int disjoint_paths = dht::kDefaultDisjointPaths;  // S/Kademlia's d.
  // Record maintenance (dht::NodeOptions has the meanings): a duration
  // ("90s", "1h") or "off".
  std::string replicate_interval = "1h";  // Re-offer held records.
  std::string republish_interval = "1h";  // Re-put our own puts.
  std::string handoff_delay = "10s";      // Offer records to new neighbours.
  // Abuse limits (dht/request_gate.h), each "N/s" or "off"; loopback is
  // exempt. Per source address: N/s sustained, bursts of 5N.
  std::string rate_limit = "200/s";
  std::string rate_limit_global = "10000/s";  // All sources: bursts of N.
  // Reply bytes per destination address (bursts of as many); 4x per /24.
  std::string reply_budget = "65536/s";
  // The record store's quotas (storage::MemoryStoreOptions), and store
  // admission (dht/store_admission.h): "on" (a /24 or /64 holds at most a
  // quarter of them; newcomer keys only if among the k closest) or "off".
  uint64_t max_records = 1'000'000;
  uint64_t max_record_bytes = uint64_t{256} << 20;
  std::string store_admission = "on";
  // Refuse contacts whose id is not bound to their address
  // (dht::IdBindingOptions::enforce); off by default (README says why).
  bool enforce_id_binding = false;
  std::string log_level = "info";
  // Serve GET /metrics (Prometheus) here: HOST:PORT, or PORT for
  // 127.0.0.1:PORT (cli/metrics_server.h). "": no metrics server.
  std::string metrics;
  // Group commit with --data-dir (dht::NodeOptions::store_commit_batch
  // and store_commit_delay): most stores per commit, and the longest a
  // batch gathers ("10ms", or "0": commit at the next turn of the loop).
  int64_t commit_batch = 256;
  std::string commit_delay = "10ms";
};

int RunNode(const NodeFlags& flags);

}  // namespace kad::cli

#endif  // KAD_CLI_NODE_COMMAND_H_

// NodeOptions: how a dht::Node is configured — plain data with a
// commented default on every field — and ValidateNodeOptions, the one
// place that knows their limits. The CLI and the benchmarks check flags
// through it, so a limit is stated once.
#ifndef KAD_DHT_NODE_OPTIONS_H_
#define KAD_DHT_NODE_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dht/admission_control.h"
#include "dht/id_binding.h"
#include "dht/kademlia_parameters.h"
#include "dht/node_id.h"
#include "dht/reply_budget.h"
#include "dht/store_admission.h"
#include "net/subnet.h"

namespace kad::dht {

// The reply budget a node runs with by default: ReplyBudgetOptions' byte
// budgets (64 KiB/s per address, 256 KiB/s per /24 or /56), without its
// cap on amplification towards unproven destinations. That cap needs a
// way for a requester to prove its address first: a read-only client
// (kad get) is never proven, and a find_value of a few dozen bytes
// answered by a 1,000-byte record would always be refused.
ReplyBudgetOptions DefaultReplyBudget();

struct NodeOptions {
  // Default: random, drawn from `seed` — bound to the transport's local
  // address when ids can be verified against it (a node listening on its
  // public address; dht/id_binding.h).
  std::optional<NodeId> id;
  // Seeds the node's randomness (id, token secrets, transaction ids,
  // refresh targets). Default: drawn from std::random_device. Set it to
  // reproduce a simulated run.
  std::optional<uint64_t> seed;
  // Where write-token secrets and transaction ids come from: kCsprng,
  // libsodium's CSPRNG (real nodes: observed transaction ids must reveal
  // nothing that predicts a token), or kSeed, the generator `seed` seeds
  // (simulations, which must be reproducible). Default: kSeed if `seed`
  // is set, else kCsprng.
  enum class SecretSource { kCsprng, kSeed };
  std::optional<SecretSource> secrets;
  // Kademlia's k: bucket size and replica count (1 to kMaxBucketSize).
  int bucket_size = kDefaultBucketSize;
  // Kademlia's alpha: lookup requests in flight (1 to kMaxParallelism).
  int parallelism = kDefaultParallelism;
  bool read_only = false;    // Client mode: answer nothing, stay unlisted.
  // Get returns once this many replicas have answered with a record (or
  // the lookup has finished with fewer); at least 1.
  int get_quorum = 3;
  // First RPC timeout to a node we have no RTT sample for; later timeouts
  // adapt to measured RTT (SRTT + 4 RTTVAR, clamped to the bounds below).
  // Positive, with min <= initial <= max.
  absl::Duration initial_rpc_timeout = absl::Seconds(1);
  absl::Duration min_rpc_timeout = absl::Milliseconds(50);
  absl::Duration max_rpc_timeout = absl::Seconds(2);
  // A request is given up (and the node charged a failure) this many
  // timeouts after it was sent; before that a late answer still counts.
  // At least 1.
  int rpc_give_up_after_timeouts = 3;
  absl::Duration bucket_refresh_interval = absl::Hours(1);
  absl::Duration token_rotation = absl::Minutes(5);
  // The publisher re-puts its records this often while it runs.
  // InfiniteDuration turns republishing off.
  absl::Duration republish_interval = absl::Hours(1);
  // Every node re-offers the records it holds to the k closest nodes it
  // knows for each key this often (dht/replicator.h), jittered per node:
  // the first round after 0.5-1.5 intervals, later ones 0.9-1.1 apart.
  // InfiniteDuration (or a non-positive value) turns replication rounds
  // off.
  absl::Duration replicate_interval = absl::Hours(1);
  // A contact newly admitted to the routing table is offered the records
  // it is now among the k closest for, batched: this long after the first
  // admission of a batch. InfiniteDuration turns hand-offs off.
  absl::Duration handoff_delay = absl::Seconds(10);
  // Maintenance datagrams (offers and the stores peers ask for) per
  // second, and the burst (dht/replication_driver.h); nullopt: unpaced.
  std::optional<RateLimit> replication_pace = RateLimit{100, 100};
  // Expired records are removed in batches this often.
  absl::Duration expiry_interval = absl::Minutes(1);
  // Per-prefix limits against Sybils: contacts from one /24 (IPv4) or /64
  // (IPv6) in one routing-table bucket, in the whole table, and among one
  // lookup's k closest (each at least 1). Addresses in
  // prefix_limit_exempt escape all three. Default: loopback only, so a
  // local overlay of thousands of 127.0.0.1 nodes works; add
  // net::PrivateSubnets() where private peers are distinct hosts (a LAN).
  int max_per_subnet_in_bucket = kDefaultMaxPerSubnetInBucket;
  int max_per_subnet_in_table = kDefaultMaxPerSubnetInTable;
  int lookup_max_per_subnet = kDefaultLookupMaxPerSubnet;
  std::vector<net::Subnet> prefix_limit_exempt = {
      net::LoopbackSubnets().begin(), net::LoopbackSubnets().end()};
  // Bounds on every lookup (find, put, get, join, refresh): requests sent
  // (at least bucket_size, so the k closest can all be asked) and time
  // (positive). A lookup that hits one ends with what it has.
  int lookup_max_requests = kDefaultLookupMaxRequests;
  absl::Duration lookup_deadline = kDefaultLookupDeadline;
  // Id binding (dht/id_binding.h): which ids verify from which
  // addresses, and whether contacts whose ids do not are refused
  // (`kad node --enforce-id-binding`). Default: verified contacts are
  // preferred, nothing is refused (id_binding.enforce = false; README,
  // "Id binding", says why).
  IdBindingOptions id_binding;
  // Get and put run this many lookups over disjoint node sets
  // (S/Kademlia's d, dht/disjoint_lookup.h), so colluding nodes that
  // capture one path leave the others to reach honest replicas; they share
  // lookup_max_requests and lookup_deadline. 1 to kMaxDisjointPaths and at
  // most bucket_size. Find, join and refresh lookups keep one path.
  int disjoint_paths = kDefaultDisjointPaths;
  // Besides loopback, requesters in these subnets may ask for our stats.
  // Default: none (loopback only).
  std::vector<net::Subnet> stats_allow;
  // Per-source request limits and bans (dht/admission_control.h has the
  // defaults and why); nullopt serves every request. Loopback is exempt.
  std::optional<AdmissionOptions> admission = AdmissionOptions{};
  // Reply bytes per destination per second (dht/reply_budget.h), so that
  // forged-source requests cannot aim the node at a victim; nullopt: no
  // budget. Loopback is exempt. The budget's cap on replies larger than
  // the request to unproven destinations is off by default (see
  // DefaultReplyBudget).
  std::optional<ReplyBudgetOptions> reply_budget = DefaultReplyBudget();
  // Store admission (dht/store_admission.h has the defaults and why): a
  // newcomer key is stored only if this node is plausibly among its k
  // closest, and one /24 (IPv4) or /64 (IPv6) may hold at most a quarter
  // of the store's quotas (max_records and max_bytes must match the
  // store's); nullopt stores whatever proves itself, until the store is
  // full. Loopback is exempt from the share. Its `seed` is ignored: the
  // node draws one from its own.
  std::optional<StoreAdmissionOptions> store_admission =
      StoreAdmissionOptions{};
  // Group commit, for a record store that stages Puts (the LMDB store of a
  // data dir; dht/group_committer.h): the staged Puts are committed once a
  // turn of the event loop brings no new one, or the batch holds
  // store_commit_batch Puts (at least 1), or it began store_commit_delay
  // ago (finite, at least 0). Answers to store requests wait for the
  // commit. No effect on an in-memory store.
  size_t store_commit_batch = 256;
  absl::Duration store_commit_delay = absl::Milliseconds(10);
};

// Returns InvalidArgument, naming the field and its allowed range, for
// the first option out of range; OK otherwise.
absl::Status ValidateNodeOptions(const NodeOptions& options);

}  // namespace kad::dht

#endif  // KAD_DHT_NODE_OPTIONS_H_

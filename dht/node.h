// Node: one Kademlia participant — serves requests, keeps its routing
// table fresh, and runs lookups, put and get on behalf of its owner.
//
// The node is sans-I/O: it talks to the world only through the injected
// net::Transport and net::Clock, and draws randomness from a generator
// seeded by NodeOptions::seed, so the same code runs over libuv UDP and in
// the simulator, and a seed reproduces a simulated run.
//
// Callback contract (every async method): the callback is called exactly
// once, from the loop, never from inside the call that registered it. If
// the node is destroyed first, pending callbacks are destroyed uncalled.
//
// A node in read-only mode (NodeOptions::read_only, used by one-shot CLI
// commands) sends requests with no sender id: it answers no queries and
// others never add it to their routing tables.
//
// A node answers stats requests (its counters, see Stats()) only from
// loopback and from the subnets in NodeOptions::stats_allow.
//
// Ownership: the transport, clock, store and publication store are
// borrowed and must outlive the node. Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_NODE_H_
#define KAD_DHT_NODE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dht/callback.h"
#include "dht/contact.h"
#include "dht/latency_window.h"
#include "dht/message.h"
#include "dht/node_id.h"
#include "dht/node_options.h"
#include "dht/node_stats.h"
#include "dht/operation_results.h"
#include "dht/request_gate.h"
#include "dht/stats_service.h"
#include "net/clock.h"
#include "net/endpoint.h"
#include "net/transport.h"
#include "storage/publication_store.h"
#include "storage/record.h"
#include "storage/record_store.h"

namespace kad::dht {

class Node {
 public:
  template <typename T>
  using Callback = dht::Callback<T>;

  // `options` must pass ValidateNodeOptions (asserted).
  // `publications` keeps the records this node put, which it republishes
  // (storage/publication_store.h); the ones it holds at construction are
  // republished too, so a publisher restarted on the same data survives.
  // Null: an in-memory set owned by the node.
  Node(NodeOptions options, net::Transport& transport, net::Clock& clock,
       storage::RecordStore& store,
       storage::PublicationStore* publications = nullptr);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Installs the receive handler and starts periodic maintenance (bucket
  // refresh, expiry, republish, replication). Call once before anything
  // else.
  void Start();

  // Joins through `seeds`: pings them, looks up our own id, then refreshes
  // every bucket farther than our nearest neighbour. Fails with Unavailable
  // if no seed answers. Succeeds at once (asynchronously) with no seeds:
  // the first node of an overlay.
  void Bootstrap(std::vector<net::Endpoint> seeds, Callback<int> done);

  // Pings an endpoint; DeadlineExceeded if it does not answer.
  void Ping(const net::Endpoint& endpoint, Callback<PingResult> done);

  // Finds the k nodes closest to `target` (iterative lookup).
  void FindNode(const NodeId& target, Callback<LookupResult> done);

  // Records come in three kinds (storage/record.h, docs/PROTOCOL.md):
  //   signed     dht::MakeSignedRecord(owner, name, value, seq, expires);
  //              only the owner's key can make a new version, seq must
  //              rise; read with GetSigned(public_key, name) or
  //              GetProven(address).
  //   immutable  dht::MakeImmutableRecord(value, expires); its address is
  //              the hash of the value; read with GetProven(address).
  //   open       a storage::Record as is; anyone may replace it; read with
  //              Get(key).
  // (dht/record_auth.h builds, addresses and verifies them.)

  // Stores `record` (seq and expiry as given) on the k nodes closest to its
  // key, and on this node too if it is among them; with `expected_seq`,
  // only where the node holds no version or exactly that seq
  // (compare-and-swap). While the node runs it republishes the record every
  // republish_interval with its original TTL. Errors: InvalidArgument for
  // a record that is too large, already expired or does not verify;
  // Aborted if any node refused it as a conflict (it holds a newer
  // version, the same seq with another value, or not `expected_seq`): the
  // message names the highest seq held; Unavailable if no node stored it.
  void Put(storage::Record record, Callback<PutResult> done);
  void Put(storage::Record record, std::optional<uint64_t> expected_seq,
           Callback<PutResult> done);

  // Finds the record for `key`: the highest version among the first
  // get_quorum replicas that answer (fewer if the lookup ends first), and
  // writes it back to closest nodes that lacked it or held an older one
  // (read repair). Answers that do not verify are ignored (counted in
  // NodeStats::records_unverified). NotFound if no replica has it;
  // Unavailable if no node answered at all. An open get: a signed or
  // immutable record at `key` is returned too.
  void Get(std::string key, Callback<GetResult> done);
  // As Get, for the signed or immutable record at `address` (20 bytes):
  // open records are never accepted.
  void GetProven(std::string address, Callback<GetResult> done);
  // As GetProven, for the record `name` of the owner `public_key`.
  void GetSigned(std::string_view public_key, std::string_view name,
                 Callback<GetResult> done);

  // Enters `contacts` into the routing table as if each had just answered
  // us, sending nothing. For simulations that start from a converged
  // overlay built from a global view (bench/oracle_join.h); a node in a
  // real overlay learns contacts only from responses.
  void AdoptContacts(std::span<const Contact> contacts);

  // Asks the node at `endpoint` for its counters. DeadlineExceeded if it
  // does not answer; PermissionDenied, with its reason, if it refuses (we
  // are not on loopback or in its stats_allow subnets).
  void Stats(const net::Endpoint& endpoint, Callback<StatsReport> done);

  const NodeId& id() const;
  net::Endpoint endpoint() const;
  // Returns this node's public address (port 0) as a majority of its
  // peers report it (dht/public_address.h) or, until they agree, its own
  // address if ids can be verified against it; nullopt if neither.
  std::optional<net::Endpoint> public_address() const;
  // Returns whether id() is bound to public_address() (dht/id_binding.h).
  bool id_bound() const;
  const RoutingTable& routing_table() const;
  const NodeStats& stats() const;
  // Requests refused and replies withheld, by reason (dht/request_gate.h).
  RequestGateStats gate_stats() const;

  // Returns this node's counters as of now, as it would answer a stats
  // request (StatsService::Snapshot, no access check): for monitoring on
  // the loop thread (runtime/prometheus_metrics.h, `kad node --metrics`).
  StatsReply StatsSnapshot() const;
  // Returns the durations of the node's finished lookups: the recent ones
  // and, in histogram(), a count of all of them by bucket.
  const LatencyWindow& lookup_latency() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_NODE_H_

// Node::Impl: the machinery behind dht/node.h. Private to dht/.
//
// The node is wiring plus dispatch. Each job has its own class, and Impl
// owns one of each:
//   Requester          every request, with routing-table bookkeeping
//   LookupDriver       iterative lookups (find_node, find_value)
//   Publisher          put and republishing
//   RecordReader       get and read repair
//   Bootstrapper       joining, and rejoining when cut off
//   ReplicationDriver  record maintenance (offers and pushes)
//   RequestHandler     answers to requests (pure)
//   GroupCommitter     the store as the pieces see it: commits in groups
// Impl itself decodes incoming datagrams, serves requests, probes
// strangers that ask us before they may enter the table, and runs the
// periodic timers.
#ifndef KAD_DHT_NODE_IMPL_H_
#define KAD_DHT_NODE_IMPL_H_

#include <memory>
#include <span>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "dht/bootstrapper.h"
#include "dht/latency_window.h"
#include "dht/lookup_driver.h"
#include "dht/node.h"
#include "dht/public_address.h"
#include "dht/publisher.h"
#include "absl/random/bit_gen_ref.h"
#include "dht/csprng.h"
#include "dht/group_committer.h"
#include "dht/record_reader.h"
#include "dht/replication_driver.h"
#include "dht/request_gate.h"
#include "dht/request_handler.h"
#include "dht/requester.h"
#include "dht/routing_table.h"
#include "dht/rpc_client.h"
#include "dht/split_mix64.h"
#include "dht/stats_service.h"
#include "dht/timer_set.h"
#include "dht/token_issuer.h"

namespace kad::dht {

class Node::Impl {
 public:
  // `options.seed` must be set.
  Impl(const NodeId& id, NodeOptions options, net::Transport& transport,
       net::Clock& clock, storage::RecordStore& store,
       storage::PublicationStore* publications);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void Start();
  void Ping(const net::Endpoint& endpoint, Callback<PingResult> done);
  void FindNode(const NodeId& target, Callback<LookupResult> done);
  void Stats(const net::Endpoint& endpoint, Callback<StatsReport> done);
  void AdoptContacts(std::span<const Contact> contacts);

  const NodeId& id() const { return id_; }
  std::optional<net::Endpoint> public_address() const;
  bool id_bound() const;
  net::Transport& transport() const { return transport_; }
  const RoutingTable& routing_table() const { return routing_table_; }
  const NodeStats& stats() const { return stats_; }
  RequestGateStats gate_stats() const { return gate_.stats(); }
  net::Clock& clock() const { return clock_; }
  const StatsService& stats_service() const { return stats_service_; }
  const LatencyWindow& lookup_latency() const { return lookup_latency_; }
  Bootstrapper& bootstrapper() { return bootstrapper_; }
  Publisher& publisher() { return publisher_; }
  RecordReader& reader() { return reader_; }

 private:
  void OnDatagram(const net::Endpoint& from, std::span<const uint8_t> bytes);
  void Serve(const net::Endpoint& from, const Message& request,
             size_t request_bytes);
  // Sends `response` to `to` if the reply budget allows.
  void Reply(const net::Endpoint& to, const Message& response,
             size_t request_bytes, bool proven);
  // Returns whether `from` has shown it receives at its address: it is in
  // the table there, or answered one of our requests lately.
  bool Proven(const net::Endpoint& from,
              const std::optional<NodeId>& sender) const;
  void ProbeStranger(const Contact& contact, size_t request_bytes);
  // Asks the CPU for this node's state ahead of use (see OnDatagram).
  void PrefetchState() const;
  void Every(absl::Duration period, absl::AnyInvocable<void()> fn);
  void RefreshStaleBuckets();
  std::vector<ContactInfo> WithRtt(const std::vector<Contact>& contacts) const;

  const NodeId id_;
  // What the node needs of its options once built (the rest went into
  // its pieces): NodeOptions is ~600 bytes, a lot for a million nodes.
  const bool read_only_;
  const absl::Duration expiry_interval_;
  const absl::Duration republish_interval_;
  // The routing table's and lookups' options refer to it.
  const std::vector<net::Subnet> prefix_limit_exempt_;
  const IdBindingOptions id_binding_;
  net::Transport& transport_;
  net::Clock& clock_;
  // Wraps the store given; every piece uses it, and store answers wait
  // for its commits.
  GroupCommitter store_;
  NodeStats stats_;
  RoutingTable routing_table_;
  SplitMix64 gen_;
  PublicAddress public_address_;  // What peers say our address is.
  Csprng csprng_;
  // Token secrets and transaction ids: csprng_ or gen_ (NodeOptions::secrets).
  absl::BitGenRef secret_gen_;
  TokenIssuer tokens_;
  RpcClient rpc_;
  LatencyWindow lookup_latency_;  // Durations of the last finished lookups.
  StatsService stats_service_;
  std::unique_ptr<StoreAdmission> store_admission_;  // Null: off.
  RequestHandler handler_;
  Requester requester_;
  LookupDriver lookups_;
  // Used when the node was given no publication store.
  storage::MemoryPublicationStore own_publications_;
  Publisher publisher_;
  RecordReader reader_;
  Bootstrapper bootstrapper_;
  ReplicationDriver replication_;
  RequestGate gate_;
  // Strangers being pinged, one probe per source endpoint at a time.
  absl::flat_hash_set<net::Endpoint> probing_;
  TimerSet timers_;  // Last: cancelled before anything they refer to goes.
};

}  // namespace kad::dht

#endif  // KAD_DHT_NODE_IMPL_H_

// Node::Impl: the machinery behind dht/node.h. Private to dht/.
//
// node.cc holds the datagram dispatch, serving, routing-table upkeep,
// bootstrap and periodic maintenance; node_operations.cc holds the
// lookup driver and put/get built on it; node_replication.cc sends the
// offers dht/replicator.h plans and pushes the records peers want.
//
// Asynchronous work is referred to by id (OperationId), never by pointer:
// a late reply whose operation has finished simply misses the map.
#ifndef KAD_DHT_NODE_IMPL_H_
#define KAD_DHT_NODE_IMPL_H_

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "dht/latency_window.h"
#include "dht/lookup.h"
#include "dht/node.h"
#include "dht/replicator.h"
#include "dht/request_handler.h"
#include "dht/routing_table.h"
#include "dht/rpc_client.h"
#include "dht/split_mix64.h"
#include "dht/stats_service.h"
#include "dht/timer_set.h"
#include "dht/token_issuer.h"

namespace kad::dht {

using OperationId = uint64_t;

// One running lookup and what it has gathered.
struct LookupRun {
  LookupRun(Lookup lookup, absl::Time started)
      : lookup(std::move(lookup)), started(started) {}

  Lookup lookup;
  absl::Time started;
  int failures = 0;
  uint64_t bytes = 0;  // Request and response datagram bytes.
  // Every table entry was added as a seed after the first seeds all failed.
  bool widened = false;
  std::optional<std::string> value_key;  // Set for find_value lookups.
  absl::flat_hash_map<NodeId, std::string> tokens;  // Write token per node.
  // find_value: the replicas that answered with a record, in reply order.
  std::vector<std::pair<Contact, storage::Record>> values;
  // Checked after every reply: true ends the lookup early.
  absl::AnyInvocable<bool(const LookupRun&)> satisfied;
  // Runs exactly once, when the lookup ends.
  absl::AnyInvocable<void(LookupRun&)> finish;
};

struct PendingPut {
  PutResult result;
  int outstanding = 0;
  Node::Callback<PutResult> done;
};

struct BootstrapState {
  int pings_outstanding = 0;
  int answered = 0;
  std::vector<net::Endpoint> seeds;
  Node::Callback<int> done;
};

class Node::Impl {
 public:
  Impl(Node& node, NodeOptions options, net::Clock& clock,
       storage::RecordStore& store, storage::PublicationStore* publications);
  ~Impl();

  void Start();
  void Bootstrap(std::vector<net::Endpoint> seeds, Callback<int> done);
  void Ping(const net::Endpoint& endpoint, Callback<PingResult> done);
  void FindNode(const NodeId& target, Callback<LookupResult> done);
  void Put(storage::Record record, Callback<PutResult> done);
  void Get(std::string key, Callback<GetResult> done);
  void Stats(const net::Endpoint& endpoint, Callback<StatsReport> done);
  void AdoptContacts(std::span<const Contact> contacts);

 private:
  // node.cc
  void OnDatagram(const net::Endpoint& from, std::span<const uint8_t> bytes);
  void Serve(const net::Endpoint& from, const Message& request);
  void ProbeStranger(const Contact& contact);
  void Request(const net::Endpoint& to, std::optional<NodeId> expected,
               Body body, RpcHandlers handlers);
  void NoteOutcome(const net::Endpoint& to,
                   const std::optional<NodeId>& expected,
                   const absl::StatusOr<Message>& outcome);
  void PingSeed(const net::Endpoint& seed, int attempt);
  void OnBootstrapPing(bool answered);
  void LookUpSelf(int attempt);
  void FinishBootstrap();
  void Every(absl::Duration period, absl::AnyInvocable<void()> fn);
  void RefreshStaleBuckets();
  void Republish();
  // Calls `done(status)` from the loop, never inside the caller's call.
  template <typename T>
  void FailSoon(Callback<T> done, absl::Status status) {
    timers_.Schedule(absl::ZeroDuration(),
                     [done = std::move(done), status]() mutable {
                       done(status);
                     });
  }

  // node_replication.cc
  void ScheduleReplication();
  void ReplicateRound();
  void OnContactAdded(const Contact& contact);
  void FlushHandoffs();
  std::vector<RecordSummary> HeldSummaries() const;
  void SendOffer(OfferPlan plan);
  void OnOfferAnswer(const Contact& peer, const std::vector<std::string>& keys,
                     const absl::StatusOr<Message>& answer);
  void CountMaintenanceReply(const absl::StatusOr<Message>& answer);

  // node_operations.cc
  OperationId StartLookup(const NodeId& target, std::optional<std::string> key,
                          absl::AnyInvocable<void(LookupRun&)> finish);
  void Pump(OperationId id);
  void QueryCandidate(OperationId id, LookupRun& run, const Contact& contact);
  void OnLookupAnswer(OperationId id, const Contact& contact,
                      absl::StatusOr<Message> answer);
  void FinishLookup(OperationId id);
  LookupStats StatsOf(const LookupRun& run) const;
  std::vector<ContactInfo> WithRtt(const std::vector<Contact>& contacts) const;
  void StoreOnClosest(storage::Record record, LookupRun& run,
                      Callback<PutResult> done);
  void OnStoreAnswer(OperationId put_id, const absl::StatusOr<Message>& answer);
  void FinishPut(OperationId put_id);
  void FinishGet(std::string key, LookupRun& run,
                 std::optional<storage::Record> local,
                 Callback<GetResult> done);
  int ReadRepair(const storage::Record& best, const LookupRun& run);
  bool SelfAmongClosest(const NodeId& key_id,
                        const std::vector<Contact>& closest) const;

  Node& node_;
  NodeOptions options_;
  net::Clock& clock_;
  storage::RecordStore& store_;
  SplitMix64 gen_;
  TokenIssuer tokens_;
  RpcClient rpc_;
  LatencyWindow lookup_latency_;  // Durations of the last finished lookups.
  StatsService stats_service_;
  RequestHandler handler_;
  Replicator replicator_;
  OperationId next_operation_ = 1;
  absl::flat_hash_map<OperationId, std::unique_ptr<LookupRun>> lookups_;
  absl::flat_hash_map<OperationId, PendingPut> puts_;
  std::optional<BootstrapState> bootstrap_;
  std::vector<net::Endpoint> bootstrap_seeds_;  // Kept to rejoin if cut off.
  absl::flat_hash_set<NodeId> probing_;  // Strangers being pinged.
  // The node's own when it was given none.
  std::unique_ptr<storage::MemoryPublicationStore> own_publications_;
  storage::PublicationStore& publications_;
  TimerSet timers_;  // Last: cancelled before anything they refer to goes.
};

}  // namespace kad::dht

#endif  // KAD_DHT_NODE_IMPL_H_

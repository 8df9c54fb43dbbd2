// NodeRuntime: a long-lived dht::Node with what it needs to stay joined
// and to survive restarts — the runtime that `kad node` and `kad overlay`
// build their nodes with, and that an embedder links instead of copying
// CLI code.
//
// It owns the node, its stores and, if given one, its data dir
// (runtime/data_dir.h); it borrows the transport and clock, so the same
// runtime runs over libuv UDP (cli/session.h) and on the simulator.
//
// With a data dir the node gets:
//  - the id saved there (a first start saves the new one);
//  - the dir's LMDB stores: the records it holds, and the records it put,
//    which it goes on republishing every republish_interval after a
//    restart (storage/lmdb_publication_store.h);
//  - the contacts saved there as seeds, when it is given none;
// and Start() saves the routing table's contacts there kFirstContactSave
// later (a node killed in its first minute still rejoins through the
// contacts it just met), then every kContactSavePeriod. Without a data
// dir, the stores are in memory and nothing is kept.
//
// Start() also joins through the seeds, trying again on a
// dht::RejoinPolicy until one answers (runtime/joiner.h; with no seeds the
// node starts a new overlay), and logs a line of counters every
// stats_interval.
//
// Id binding (dht/id_binding.h): a node's id is fixed while it runs (its
// routing table, lookups and records are all placed by it), so the
// runtime re-keys between runs, not during one. Every kContactSavePeriod
// it compares the id with the public address the node has learnt from
// its peers (dht::Node::public_address); if the id is not bound to it,
// it draws an id bound to that address and, with a data dir and no id
// given in the options, saves it there: the node runs with it from its
// next start (a warning says so). Without a data dir, or with an id the
// caller chose, it only logs. Asking the seeds before choosing an id was
// the alternative; it needs several seeds to agree (one host's word is
// not a majority) and delays every start, while a node's address rarely
// changes between runs.
//
// Ownership: the transport and clock are borrowed and must outlive the
// runtime. Destroying it destroys the node first (pending callbacks are
// destroyed uncalled), then cancels the runtime's timers and closes the
// data dir. It saves nothing then: call SaveContacts() before, as
// `kad node` does on SIGTERM. Not thread-safe; call from the loop thread.
#ifndef KAD_RUNTIME_NODE_RUNTIME_H_
#define KAD_RUNTIME_NODE_RUNTIME_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dht/node.h"
#include "dht/rejoin_policy.h"
#include "dht/timer_set.h"
#include "net/clock.h"
#include "net/endpoint.h"
#include "net/transport.h"
#include "runtime/data_dir.h"
#include "runtime/joiner.h"
#include "storage/memory_store.h"
#include "storage/publication_store.h"
#include "storage/record_store.h"

namespace kad::runtime {

inline constexpr absl::Duration kFirstContactSave = absl::Seconds(5);
inline constexpr absl::Duration kContactSavePeriod = absl::Minutes(1);

struct NodeRuntimeOptions {
  // The node's options. With a data dir that holds an id, `node.id` must
  // be unset or that id.
  dht::NodeOptions node;
  // Seeds to join through. None: with a data dir, the contacts saved
  // there; without one (or none saved), the node starts a new overlay.
  std::vector<net::Endpoint> seeds;
  // When to try the join again after a failure.
  dht::RejoinOptions rejoin;
  // Logs one line of the node's counters at info level this often.
  // InfiniteDuration: never (many nodes in one process stay quiet).
  absl::Duration stats_interval = absl::InfiniteDuration();
  // Quotas of the in-memory record store (without a data dir; a data
  // dir's store has the quotas it was opened with). Keep them equal to
  // node.store_admission's max_records and max_bytes.
  storage::MemoryStoreOptions memory_store;
};

class NodeRuntime {
 public:
  // Builds and starts the node (dht::Node::Start) on `transport` and
  // `clock`, with the stores, id and saved contacts of `data_dir` (null:
  // in-memory stores), and saves a new node's id there. Joins nothing yet:
  // see Start(). Errors: InvalidArgument if options.node.id differs from
  // the id saved in the dir; the dir's own errors (DataDir).
  static absl::StatusOr<std::unique_ptr<NodeRuntime>> Create(
      NodeRuntimeOptions options, net::Transport& transport, net::Clock& clock,
      std::unique_ptr<DataDir> data_dir = nullptr);

  ~NodeRuntime();
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // Starts joining, contact saving (with a data dir) and the stats line,
  // as the class comment says. Call once, from the loop.
  void Start();

  // Saves the routing table's contacts to the data dir now; OK without
  // one. Errors: as DataDir::SaveContacts.
  absl::Status SaveContacts() const;
  // Checks the id against the learnt public address now, as Start()'s
  // timer does (see the class comment). Returns the bound id saved for
  // the next start, if it saved one.
  std::optional<dht::NodeId> CheckIdBinding();

  dht::Node& node() { return *node_; }
  const dht::Node& node() const { return *node_; }
  const storage::RecordStore& store() const { return *store_; }
  const storage::PublicationStore& publications() const {
    return *publications_;
  }
  // The seeds Start() joins through: as given, or the saved contacts.
  const std::vector<net::Endpoint>& seeds() const { return seeds_; }
  // Whether a join through the seeds succeeded.
  bool joined() const { return joiner_ != nullptr && joiner_->joined(); }
  // The data dir, or null.
  const DataDir* data_dir() const { return dir_.get(); }

 private:
  NodeRuntime(net::Clock& clock, std::unique_ptr<DataDir> dir,
              const NodeRuntimeOptions& options);

  // Takes the data dir's saved id and, with no seeds given, its saved
  // contacts into `options`. Returns whether a new id must be saved.
  absl::StatusOr<bool> AdoptSavedState(NodeRuntimeOptions& options);
  void LogStats() const;
  std::string PublicAddressText() const;
  // Runs `fn` after `first`, then every `period`, until destroyed.
  void Every(absl::Duration first, absl::Duration period,
             absl::AnyInvocable<void()> fn);

  std::unique_ptr<DataDir> dir_;  // Null: in-memory stores.
  std::unique_ptr<storage::RecordStore> memory_store_;
  std::unique_ptr<storage::PublicationStore> memory_publications_;
  storage::RecordStore* store_;  // The dir's or memory_store_.
  storage::PublicationStore* publications_;
  std::vector<net::Endpoint> seeds_;
  absl::Duration stats_interval_;
  dht::IdBindingOptions id_binding_;
  bool id_given_ = false;  // The caller chose the id: never re-keyed.
  // The public address a bound id was last drawn (or logged) for.
  std::optional<net::Endpoint> rebound_for_;
  uint64_t rekey_seed_ = 0;
  dht::TimerSet timers_;  // Contact saving, stats.
  std::unique_ptr<Joiner> joiner_;
  // Declared last, so destroyed first: before the stores it uses and the
  // joiner its pending bootstrap callback refers to.
  std::unique_ptr<dht::Node> node_;
};

}  // namespace kad::runtime

#endif  // KAD_RUNTIME_NODE_RUNTIME_H_

// LookupDriver: runs this node's iterative lookups over the network.
//
// A Lookup (dht/lookup.h) decides whom to ask; the driver asks them. It
// seeds each lookup from the routing table, sends find_node or find_value
// through the Requester as slots free up, reports each answer, slowness or
// failure back to the Lookup, keeps the write tokens and (for find_value)
// the records the replicas returned, and ends the run when the Lookup is
// done or the caller is satisfied. Find, put, get, bootstrap and bucket
// refresh are all its clients. A run may be d lookups over disjoint node
// sets (dht/disjoint_lookup.h; get and put use them): the request cap and
// the deadline below hold for all its paths together.
//
// Every run sends at most LookupOptions::max_requests requests (the
// Lookup's cap) and ends at the first answer, slowness or failure after
// LookupOptions::deadline has passed since its start, with what it has
// gathered and `timed_out` set. A run always has a request out until it
// ends, and every request settles within the RPC layer's give-up time, so
// a run ends within deadline + that time. (Checked when it wakes, not by a
// timer: a timer per lookup cost the simulated overlays 1.5 KB per node in
// cancelled timers waiting in the clock's queue.)
//
// A lookup whose seeds all fail (the neighbourhood churned away, a
// partition) is seeded once more with every contact in the table before
// it ends: farther contacts still route.
//
// Runs are referred to by LookupId; an answer that arrives after its run
// ended misses the map and is ignored. `finish` runs exactly once, from
// the loop, never inside Start(); runs still going when the driver is
// destroyed are destroyed with their callbacks uncalled.
//
// Ownership: every collaborator is borrowed and must outlive the driver.
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_LOOKUP_DRIVER_H_
#define KAD_DHT_LOOKUP_DRIVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "dht/contact.h"
#include "dht/latency_window.h"
#include "dht/disjoint_lookup.h"
#include "dht/lookup.h"
#include "dht/node_id.h"
#include "dht/node_stats.h"
#include "dht/operation_results.h"
#include "dht/requester.h"
#include "dht/routing_table.h"
#include "dht/timer_set.h"
#include "net/clock.h"
#include "storage/record.h"

namespace kad::dht {

using LookupId = uint64_t;

// One running lookup and what it has gathered.
struct LookupRun {
  LookupRun(DisjointLookup lookup, absl::Time started)
      : lookup(std::move(lookup)), started(started) {}

  DisjointLookup lookup;  // One path unless the client asked for more.
  absl::Time started;
  int failures = 0;
  uint64_t bytes = 0;  // Request and response datagram bytes.
  // Every table entry was added as a seed after the first seeds all failed.
  bool widened = false;
  bool timed_out = false;  // Ended by LookupOptions::deadline.
  // Upkeep (see LookupDriver::Urgency): requests wait for their answer or
  // timeout, with no slow mark.
  bool upkeep = false;
  std::optional<std::string> value_key;  // Set for find_value lookups.
  absl::flat_hash_map<NodeId, std::string> tokens;  // Write token per node.
  // find_value: the replicas that answered with a record, in reply order.
  std::vector<std::pair<Contact, storage::Record>> values;
};

class LookupDriver {
 public:
  // Ends the run early when it returns true; checked after every answer.
  using Satisfied = absl::AnyInvocable<bool(const LookupRun&)>;
  using Finish = absl::AnyInvocable<void(LookupRun&)>;
  // Whom a lookup is for. Someone waits on an interactive lookup (find,
  // put, get): a request past its slow mark (dht/rpc_client.h) is sent
  // again and frees its slot for the next candidate, so one straggler
  // does not hold the whole lookup. Nobody waits on an upkeep lookup (a
  // join's range refreshes, the hourly bucket refreshes; not the join's
  // self-lookup, which fills the table near the node): its requests take
  // their time, as in the Kademlia paper (a lost one is still sent again
  // at its RTO), and it sends none of those extra requests: refreshes as
  // upkeep cut a join's datagrams by 14 % at 20,000 nodes (docs/BENCH.md,
  // "Upkeep lookups").
  enum class Urgency { kInteractive, kUpkeep };

  // `latency` collects the duration of every finished lookup.
  LookupDriver(LookupOptions options, const NodeId& self,
               RoutingTable& routing_table, Requester& requester,
               net::Clock& clock, NodeStats& stats, LatencyWindow& latency);
  LookupDriver(const LookupDriver&) = delete;
  LookupDriver& operator=(const LookupDriver&) = delete;

  // Starts a lookup of `target`: find_value of `value_key` if given, else
  // find_node, over `paths` disjoint paths (at least 1). `finish` gets the
  // run when it ends. `width`, if positive and below k, is how many
  // closest nodes the run converges on instead of k: for lookups that
  // need a route into a range, not its k closest (bucket refreshes).
  LookupId Start(const NodeId& target, std::optional<std::string> value_key,
                 Finish finish, Satisfied satisfied = nullptr, int paths = 1,
                 int width = 0, Urgency urgency = Urgency::kInteractive);

  // Returns the counters of `run` as of now.
  LookupStats StatsOf(const LookupRun& run) const;

  size_t running() const { return runs_.size(); }
  // Kademlia's k: the closest nodes a full lookup converges on.
  int bucket_size() const { return options_.bucket_size; }

 private:
  // Kept behind a pointer: a map slot stays 16 bytes, and the map of an
  // idle node is released (a joining node runs hundreds of lookups).
  struct Entry {
    LookupRun run;
    Satisfied satisfied;
    Finish finish;
  };

  void Pump(LookupId id);
  void Query(LookupId id, const LookupRun& run, const Contact& contact);
  void OnAnswer(LookupId id, const Contact& contact,
                absl::StatusOr<Message> answer);
  void End(LookupId id);

  LookupOptions options_;
  const NodeId& self_;
  RoutingTable& routing_table_;
  Requester& requester_;
  net::Clock& clock_;
  NodeStats& stats_;
  LatencyWindow& latency_;
  LookupId next_id_ = 1;
  absl::flat_hash_map<LookupId, std::unique_ptr<Entry>> runs_;
  TimerSet timers_;  // Last: cancelled before anything they refer to goes.
};

}  // namespace kad::dht

#endif  // KAD_DHT_LOOKUP_DRIVER_H_

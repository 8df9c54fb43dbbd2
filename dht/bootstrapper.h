// Bootstrapper: joins the overlay through seed nodes, and joins again
// through them when the node has been cut off.
//
// A join pings every seed (a few times each: one lost datagram must not
// fail a join), then looks up our own id (tried again if nobody answered
// it) and refreshes the ranges farther away than our nearest neighbour
// (one per common prefix length with us) that the self-lookup left empty.
// A read-only node stops after the pings.
//
// Where this departs from the Kademlia paper: the paper refreshes every
// bucket farther than the nearest neighbour, each with a full lookup.
// A range that holds a node which answered the self-lookup is already a
// route into it, and is skipped; so is a range nearer to us than the k-th
// closest node the self-lookup found: any node in it would be nearer than
// that k-th and so among those found (at 5,000 nodes a quarter of the
// refreshes went to such ranges, mostly empty; a self-lookup that peers cut
// short skips more of them, but the refreshes would start from the table
// that lookup filled, and the hourly refresh reaches them). The others get
// a narrow lookup that
// converges on k/2 nodes rather than k (LookupDriver's `width`): it still
// fills the range with the nodes that answer it, without the ~16 requests
// a full lookup's last widening sends at once. A full refresh costs ~45
// find_node requests plus the probes of the nodes asked; docs/BENCH.md,
// "Joins and memory", has what each rule saves and costs. Refreshes are
// also upkeep lookups (LookupDriver::Urgency): nobody waits on them, so a
// slow node is waited for instead of being sent a copy and stood in for
// by another request (at 20,000 nodes 394 datagrams per join instead of
// 456; the self-lookup stays interactive: as upkeep it left thinner tables
// near the node, and lookups then cost more; docs/BENCH.md, "Upkeep
// lookups"). The table keeps filling from traffic, and the hourly refresh
// covers any bucket left untouched.
// It fails with Unavailable, naming the seeds, if no seed answers.
//
// The seeds of the last join with any are kept: RejoinIfCutOff starts a
// join through them again when the routing table has emptied, as often as
// the RejoinPolicy (dht/rejoin_policy.h) allows: a node cut off for an
// hour backs off instead of pinging dead seeds every check.
//
// Ownership: every collaborator is borrowed and must outlive the
// bootstrapper. Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_BOOTSTRAPPER_H_
#define KAD_DHT_BOOTSTRAPPER_H_

#include <optional>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "dht/callback.h"
#include "dht/lookup_driver.h"
#include "dht/rejoin_policy.h"
#include "dht/requester.h"
#include "dht/routing_table.h"
#include "dht/timer_set.h"
#include "net/clock.h"
#include "net/endpoint.h"

namespace kad::dht {

class Bootstrapper {
 public:
  // `read_only`: the join ends once a seed answered a ping.
  Bootstrapper(bool read_only, const NodeId& self, RoutingTable& routing_table,
               LookupDriver& lookups, Requester& requester, net::Clock& clock,
               absl::BitGenRef gen);
  Bootstrapper(const Bootstrapper&) = delete;
  Bootstrapper& operator=(const Bootstrapper&) = delete;

  // Joins through `seeds`; `done` gets the routing table's size. Succeeds
  // at once (from the loop) with no seeds. FailedPrecondition if a join is
  // already running.
  void Bootstrap(std::vector<net::Endpoint> seeds, Callback<int> done);

  // Joins again through the last seeds if the routing table is empty, no
  // join is running and the rejoin policy says one is due. Returns
  // whether the table was empty.
  bool RejoinIfCutOff();

 private:
  struct Join {
    int pings_outstanding = 0;
    int answered = 0;
    std::vector<net::Endpoint> seeds;
    Callback<int> done;
  };

  void PingSeed(const net::Endpoint& seed, int attempt);
  void OnSeedPing(bool answered);
  void LookUpSelf(int attempt);
  // Refreshes the empty ranges farther than our nearest neighbour and no
  // nearer than the farthest of `closest` (the self-lookup's result) if it
  // holds k nodes.
  void RefreshEmptyFartherBuckets(const std::vector<Contact>& closest);
  void Finish();

  bool read_only_;
  const NodeId& self_;
  RoutingTable& routing_table_;
  LookupDriver& lookups_;
  Requester& requester_;
  net::Clock& clock_;
  absl::BitGenRef gen_;
  RejoinPolicy rejoin_;  // Paces RejoinIfCutOff.
  std::optional<Join> join_;
  std::vector<net::Endpoint> last_seeds_;  // Kept to rejoin if cut off.
  TimerSet timers_;  // Last: cancelled before anything they refer to goes.
};

}  // namespace kad::dht

#endif  // KAD_DHT_BOOTSTRAPPER_H_

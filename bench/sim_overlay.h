// SimOverlay: real dht::Nodes (with MemoryStores) on a SimNetwork in the
// virtual time of a SimClock, grown in waves (or one by one, for small
// test overlays), with helpers to run operations to completion. The one
// overlay harness: `kad bench` and the unit and `sim` tests all use it.
// It links no libuv.
//
// Everything random derives from SimOverlayOptions::seed (node seeds, the
// choice of bootstrap contacts, loss draws, the link model), so one seed
// reproduces a run.
//
// Not thread-safe.
#ifndef KAD_BENCH_SIM_OVERLAY_H_
#define KAD_BENCH_SIM_OVERLAY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "bench/bench_overlay.h"
#include "dht/node.h"
#include "net/sim_clock.h"
#include "net/sim_lanes.h"
#include "net/sim_network.h"
#include "storage/memory_store.h"

namespace kad::bench {

// The simulator numbers its IPv4 hosts densely, 254 to a /24 (10.a.b.c,
// net/sim_network.h), where hosts on the Internet would be spread over
// prefixes; left alone, the per-prefix limits against Sybils would treat
// every 254 honest simulated nodes as one host. So an overlay's nodes, as
// a deployment may, count every simulated IPv4 host as a host of its own:
// SimOverlay adds SimIpv4Hosts() to each node's prefix_limit_exempt
// (SimOverlayOptions::ipv4_hosts_distinct). Simulated IPv6 hosts all share
// one /64 (fd6b:6164::/64) and stay limited: that is where Sybils that
// share a prefix live (bench/adversary.h).
net::Subnet SimIpv4Hosts();

struct SimMember;

// Lets a benchmark make some members different (an adversary,
// bench/adversary.h). Borrowed by the overlay; must outlive it.
class MemberHook {
 public:
  struct Plan {
    std::optional<dht::NodeId> id;  // Default: drawn as usual.
    // Set: the node sends and receives through this wrapper of the
    // member's SimTransport (which it must borrow, not own).
    std::unique_ptr<net::Transport> wrapper;
  };
  virtual ~MemberHook() = default;
  // Returns the address family of member `index`'s host.
  virtual net::Family FamilyOf(size_t index) = 0;
  // Returns how member `index` is made, given its host's transport.
  virtual Plan PlanMember(size_t index, net::SimTransport& transport) = 0;
  // Tells that member `index` has been made and started.
  virtual void Made(size_t index, SimMember& member) = 0;
};

struct SimOverlayOptions {
  uint64_t seed = 1;
  // The loss and link fields are used as given; the seeds are derived
  // from `seed`.
  net::SimNetworkOptions network;
  // `seed` and `id` are set per node; `admission` and `reply_budget` are
  // turned off (see SimOverlay's constructor).
  dht::NodeOptions node;
  // Exempt SimIpv4Hosts() from every node's per-prefix limits (see above).
  bool ipv4_hosts_distinct = true;
  MemberHook* hook = nullptr;  // Optional; borrowed.
  // Lanes of the simulation (net/sim_lanes.h), in [1, 64], and the
  // threads GrowTo runs them on. With more than one lane GrowTo runs in
  // windows, everything else merged; `hook` must then be null (a hook's
  // members may share state across lanes). One seed gives one result for
  // a number of lanes, whatever the threads.
  size_t lanes = 1;
  size_t threads = 1;
};

struct SimMember {
  std::unique_ptr<net::SimTransport> transport;
  std::unique_ptr<net::Transport> wrapper;  // Set by a MemberHook.
  std::unique_ptr<storage::MemoryStore> store;
  std::unique_ptr<dht::Node> node;
};

class SimOverlay final : public BenchOverlay {
 public:
  static constexpr size_t kMaxWave = 8192;

  explicit SimOverlay(SimOverlayOptions options);

  // Adds a node and starts it; does not bootstrap it.
  dht::Node& AddNode() override;
  // As AddNode(), with `options` instead of SimOverlayOptions::node; an
  // `id` or `seed` set there is kept (an unset seed is drawn as above).
  dht::Node& AddNode(dht::NodeOptions options);
  // Adds `n` nodes one after another, each bootstrapping off the first
  // node and run until its bootstrap has finished, so every join sees the
  // whole overlay before it. Much slower than GrowTo for large overlays; it
  // builds the small ones of unit tests. Returns the number of bootstraps
  // that failed or never finished.
  int JoinOneByOne(size_t n);
  // As JoinOneByOne(n), the nodes added with AddNode(options).
  int JoinOneByOne(size_t n, const dht::NodeOptions& options);
  // Grows the overlay to `n` nodes in waves: each wave adds as many nodes
  // as have already joined (so waves double) but at most kMaxWave, each
  // bootstrapping off a random joined node, and runs until the wave's
  // bootstraps finish (with lanes, until the end of the window in which
  // the last one finished). The cap bounds the memory of joins in progress
  // (each holds lookups and pending RPCs): uncapped, the last wave of a
  // large overlay doubled the heap of the settled overlay.
  // Returns the number of bootstraps that failed or never finished.
  int GrowTo(size_t n);
  // As GrowTo(n), calling `keep_going(settled)` every few thousand events
  // with the number of nodes whose join has finished; once it returns
  // false, stops (within the current wave, leaving joins unfinished) and
  // returns the failures so far. For progress bars and Ctrl-C.
  int GrowTo(size_t n, absl::FunctionRef<bool(size_t settled)> keep_going);
  // Grows the overlay to `n` nodes without a datagram: adds the missing
  // nodes, then fills every table from a global view (bench/oracle_join.h).
  // Calls `keep_going(done)` every few thousand nodes with the nodes added
  // plus the tables filled (2n in all); once it returns false, stops.
  // Returns whether it finished.
  bool OracleGrowTo(size_t n, absl::FunctionRef<bool(size_t done)> keep_going);

  // Runs `start(callback)` and the clock until the callback fires (or
  // `limit` of virtual time passes: then InternalError).
  template <typename T, typename Start>
  absl::StatusOr<T> Run(Start start, absl::Duration limit = absl::Minutes(10)) {
    auto result = std::make_shared<std::optional<absl::StatusOr<T>>>();
    start([result](absl::StatusOr<T> r) { *result = std::move(r); });
    lanes_.RunWhile([&] { return !result->has_value(); }, lanes_.Now() + limit);
    return result->has_value()
               ? **std::move(result)
               : absl::StatusOr<T>(absl::InternalError("never finished"));
  }

  // BenchOverlay. RunUntil gives up after a virtual day.
  dht::Node& node(size_t i) override { return *members_[i].node; }
  size_t size() const override { return members_.size(); }
  bool RunUntil(absl::FunctionRef<bool()> done) override;
  bool SupportsChurn() const override { return true; }
  void Crash(size_t i) override;

  SimMember& member(size_t i) { return members_[i]; }
  // Replaces SimOverlayOptions::hook, for members added from now on.
  void set_hook(MemberHook* hook) { options_.hook = hook; }
  // Returns a uniformly random member index (seeded).
  size_t RandomIndex() { return gen_() % members_.size(); }
  // Lane 0's clock: the overlay's time. With more than one lane, run the
  // overlay through its own methods, not through this clock.
  net::SimClock& clock() { return lanes_.lane(0); }
  net::SimLanes& lanes() { return lanes_; }
  net::SimNetwork& network() { return network_; }

 private:
  static net::SimNetworkOptions Seeded(net::SimNetworkOptions network,
                                       uint64_t seed);
  dht::Node& Add(const dht::NodeOptions& options);

  SimOverlayOptions options_;
  std::mt19937_64 gen_;
  net::SimLanes lanes_;
  net::SimNetwork network_;
  int waves_ = 0;
  // Counted by bootstrap callbacks, which may run on the lanes' threads.
  std::atomic<int> bootstraps_outstanding_ = 0;  // In the current wave.
  std::atomic<int> bootstrap_failures_ = 0;
  std::vector<SimMember> members_;  // Last: nodes go before the network.
};

}  // namespace kad::bench

#endif  // KAD_BENCH_SIM_OVERLAY_H_

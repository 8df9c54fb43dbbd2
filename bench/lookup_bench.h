// The lookup benchmark behind `kad bench lookup`: builds an overlay of N
// nodes (simulated, or real UDP sockets on 127.0.0.1 in this process),
// stores keys, runs M lookups from random nodes — alternately find_node
// of a random id (even indices) and get of a stored key (odd indices) —
// and summarizes what they cost. Optionally runs the first lookups again
// as flooding searches over an unstructured overlay, for comparison.
// docs/BENCH.md documents every reported field.
//
// Determinism: on the simulator everything but wall-clock times derives
// from `seed` (see LookupBenchReport), so one seed reproduces a report.
//
// Not thread-safe; `hooks.stop` may be set from a signal handler.
#ifndef KAD_BENCH_LOOKUP_BENCH_H_
#define KAD_BENCH_LOOKUP_BENCH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/adversary.h"
#include "bench/bench_overlay.h"
#include "bench/id_index.h"
#include "bench/lookup_phase.h"
#include "bench/summary.h"
#include "dht/kademlia_parameters.h"
#include "net/link_model.h"

namespace kad::bench {

enum class BenchTransport { kSim, kUdp };

// How a simulated overlay is built.
enum class JoinMethod {
  kProtocol,  // Every node bootstraps through the protocol (SimOverlay::GrowTo).
  kOracle,    // Tables filled from a global view, nothing sent
              // (bench/oracle_join.h): for overlays too large to join.
};

// Above this many nodes a protocol join takes too long to wait for
// (10,000 nodes: about a minute on 2 cores, growing as n log n):
// `kad bench lookup --join auto` switches to the oracle join.
inline constexpr size_t kLargestAutoProtocolJoin = 20'000;

struct LookupBenchOptions {
  BenchTransport transport = BenchTransport::kSim;
  size_t nodes = 1000;     // Overlay size; at least 2.
  size_t lookups = 1000;   // Measured lookups, half find_node, half get.
  uint64_t seed = 1;       // Everything random in a simulated run.
  JoinMethod join = JoinMethod::kProtocol;  // Simulator only.
  // Simulator only: round-trip times, datagram loss probability in
  // [0, 1), and the fraction of nodes replaced over the lookups in [0, 1]
  // (bench/lookup_phase.h).
  net::LinkModelOptions link;         // Default: log-normal, 80 ms, 0.6.
  std::string rtt_model = "lognormal:80ms:0.6";  // As given, for reports.
  double loss = 0;
  double churn = 0;
  int k = dht::kDefaultBucketSize;       // Kademlia's k.
  int alpha = dht::kDefaultParallelism;  // Kademlia's alpha.
  // S/Kademlia's d: disjoint lookup paths of every get and put.
  int disjoint_paths = dht::kDefaultDisjointPaths;
  int in_flight = 64;  // Lookups (and puts) running at once.
  // Simulator, protocol join: threads (and lanes, net/sim_lanes.h) the
  // join runs on, in [1, 64]. One seed gives one report per value; values
  // above 1 need an honest overlay (no --adversary).
  size_t sim_threads = 1;
  // The flooding baseline (simulator): search again for the first
  // baseline_lookups lookups' targets by flooding.
  bool baseline_flooding = false;
  size_t baseline_lookups = 1000;  // Capped at `lookups`.
  int flooding_degree = 8;         // Neighbours per peer in the baseline.
  // Simulator only: a fraction of the nodes are malicious
  // (bench/adversary.h); `attack` kNone with fraction 0 is an honest run.
  // Lookups and puts start from honest nodes only.
  double adversary = 0;
  AttackMode attack = AttackMode::kNone;
  bool sybils_share_prefix = true;  // Eclipse: one /64, or spread hosts.
  // Simulator only: node ids bound to the simulated hosts' addresses
  // (dht/id_binding.h), which the benchmark then treats as verifiable,
  // each host its own prefix (as SimIpv4Hosts() is for the per-prefix
  // limits): kOff, ids random as in production on private addresses;
  // kBound, honest ids bound and verified contacts preferred; kEnforced,
  // as kBound with every node enforcing, and eclipse Sybils taking the
  // best bound ids they can.
  enum class IdBinding : uint8_t { kOff, kBound, kEnforced };
  IdBinding id_binding = IdBinding::kOff;
};

// "off", "bound", "enforced"; and back (InvalidArgument otherwise).
const char* IdBindingName(LookupBenchOptions::IdBinding mode);
absl::StatusOr<LookupBenchOptions::IdBinding> ParseIdBinding(
    std::string_view text);

// Returns InvalidArgument naming the flag-level problem, if any.
absl::Status ValidateLookupBench(const LookupBenchOptions& options);

// Percentiles at which reports give the latency distribution.
inline constexpr double kCdfPercentiles[] = {
    1,  2,  5,  10, 15, 20, 25, 30, 35, 40, 45, 50, 55,   60,
    65, 70, 75, 80, 85, 90, 95, 98, 99, 99.5, 99.9, 100};

// Summaries of a set of lookups. hops, rpcs, bytes and latencies cover the
// successful lookups only; `lookups` counts all that ran.
struct LookupStatsSummary {
  size_t lookups = 0;
  size_t successes = 0;
  Summary hops;
  Summary rpcs;  // Kademlia: RPCs sent. Flooding: datagrams sent.
  Summary bytes;
  Summary latency_ms;
  Summary latency_rtt;  // Latency in multiples of the median RTT.
  // The latency distribution: (ms, fraction of successful lookups at or
  // below it) at the nearest-rank percentiles kCdfPercentiles.
  std::vector<std::pair<double, double>> latency_cdf;
  double success_rate() const {
    return lookups == 0 ? 0 : static_cast<double>(successes) / lookups;
  }
};

struct BaselineReport {
  size_t lookups = 0;     // Searches run (the first lookups' targets).
  LookupStatsSummary flooding;
  // The Kademlia lookups with the same indices, for the ratios.
  LookupStatsSummary kademlia_same;
};

// What the adversaries did and how the honest nodes fared.
struct AdversaryReport {
  size_t adversaries = 0;      // Malicious nodes built.
  size_t eclipsed_keys = 0;    // Eclipse: keys with Sybils next to them.
  uint64_t stores_dropped = 0;
  uint64_t finds_answered = 0;  // find_node/find_value answered hostilely.
  // Gets of the eclipsed keys (the first eclipsed_keys keys).
  LookupStatsSummary eclipsed_gets;
  // Where the eclipse's ids landed, over the eclipsed keys: the mean
  // number of Sybils among the k nodes closest to the key, and the mean
  // common prefix length of the key and its closest Sybil.
  double sybils_in_closest = 0;
  double closest_sybil_cpl = 0;
};

struct LookupBenchReport {
  LookupBenchOptions options;
  size_t nodes = 0;                  // Nodes built.
  size_t lookups = 0;                // Lookups that ran (fewer if stopped).
  bool interrupted = false;          // Stopped early (Ctrl-C).
  int bootstrap_failures = 0;
  double bootstrap_seconds = 0;          // Wall clock.
  double bootstrap_virtual_seconds = 0;  // Simulated time (UDP: wall).
  double lookup_seconds = 0;             // Wall clock, the lookup phase.
  double bytes_per_node = 0;  // Heap in use after building, per node.
  double median_rtt_ms = 0;
  size_t keys = 0;            // Keys stored before the lookups.
  size_t put_failures = 0;
  size_t churn_replaced = 0;
  LookupStatsSummary all;
  LookupStatsSummary find_node;
  LookupStatsSummary get;
  std::optional<BaselineReport> baseline;
  std::optional<AdversaryReport> adversary;  // Set when there were any.
};

struct BenchHooks {
  const std::atomic<bool>* stop = nullptr;  // Set: finish early.
  // Called often with a phase ("bootstrap", "store", "lookups",
  // "baseline") and its progress; for a progress bar.
  std::function<void(std::string_view phase, size_t done, size_t total)>
      progress;
};

// Runs the benchmark on the simulator.
absl::StatusOr<LookupBenchReport> RunSimLookupBench(
    const LookupBenchOptions& options, const BenchHooks& hooks);

// Stores the keys the plan's gets read, then runs the plan on `overlay`
// (whose live nodes `live` lists), filling report's lookup fields from
// report.options and report.median_rtt_ms. Returns the records.
// Only members for which `may_originate` holds (all, if it is empty)
// start operations.
std::vector<LookupRecord> MeasureLookups(
    BenchOverlay& overlay, IdIndex& live,
    const std::vector<PlannedLookup>& plan, const BenchHooks& hooks,
    LookupBenchReport& report,
    std::function<bool(size_t index)> may_originate = {});

// The plan of `options.lookups` lookups (from the seed alone).
std::vector<PlannedLookup> PlanLookups(const LookupBenchOptions& options);

// Summarizes the records with indices in [begin, end) that ran and, if
// `kind` is given, are of that kind.
LookupStatsSummary Summarize(const std::vector<LookupRecord>& records,
                             size_t begin, size_t end, double median_rtt_ms,
                             std::optional<LookupKind> kind = {});

// Heap bytes in use (mallinfo2: arena plus mmapped chunks).
size_t HeapInUse();

}  // namespace kad::bench

#endif  // KAD_BENCH_LOOKUP_BENCH_H_

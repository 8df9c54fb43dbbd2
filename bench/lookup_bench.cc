#include "bench/lookup_bench.h"

#include <malloc.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/flooding_baseline.h"
#include "bench/id_index.h"
#include "bench/sim_overlay.h"
#include "dht/node_options.h"
#include "dht/node_id.h"

namespace kad::bench {
namespace {

// Node pairs sampled to find the median RTT of the simulated overlay.
constexpr size_t kRttSamples = 10'001;

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// Returns the median RTT between random pairs of the overlay's nodes
// under its link model (no traffic: the model is a pure function).
double MedianRttMs(SimOverlay& overlay, uint64_t seed) {
  std::mt19937_64 gen(seed ^ 0x727474);  // "rtt"
  std::vector<double> rtts;
  const size_t n = overlay.size();
  for (size_t s = 0; s < kRttSamples && n >= 2; ++s) {
    const size_t a = gen() % n;
    const size_t b = (a + 1 + gen() % (n - 1)) % n;
    rtts.push_back(Ms(overlay.network().link_model().Rtt(
        overlay.node(a).endpoint(), overlay.node(b).endpoint())));
  }
  std::sort(rtts.begin(), rtts.end());
  return NearestRank(rtts, 50);
}

SimOverlayOptions OverlayOptions(const LookupBenchOptions& options) {
  SimOverlayOptions overlay;
  overlay.seed = options.seed;
  overlay.network.link = options.link;
  overlay.network.loss = options.loss;
  overlay.lanes = options.sim_threads;
  overlay.threads = options.sim_threads;
  overlay.node.bucket_size = options.k;
  overlay.node.parallelism = options.alpha;
  if (options.id_binding != LookupBenchOptions::IdBinding::kOff) {
    dht::IdBindingOptions& binding = overlay.node.id_binding;
    binding.verify_private = true;
    binding.ipv4_prefix_length = 32;  // Each simulated IPv4 host its own.
    binding.enforce =
        options.id_binding == LookupBenchOptions::IdBinding::kEnforced;
  }
  overlay.node.disjoint_paths = options.disjoint_paths;
  return overlay;
}

// Fills the report's placement fields: where the eclipse Sybils' ids lie
// relative to the keys they surround.
void MeasurePlacement(const IdIndex& index,
                      const Adversaries& adversaries,
                      const std::vector<dht::NodeId>& targets, int k,
                      AdversaryReport& out) {
  if (out.eclipsed_keys == 0) return;
  double in_closest = 0;
  double cpl = 0;
  for (size_t t = 0; t < out.eclipsed_keys; ++t) {
    for (size_t i : index.Closest(targets[t], static_cast<size_t>(k))) {
      if (adversaries.IsAdversary(i)) ++in_closest;
    }
    std::vector<dht::Contact> sybil = adversaries.Closest(targets[t], 1);
    if (!sybil.empty()) cpl += sybil[0].id.CommonPrefixLength(targets[t]);
  }
  out.sybils_in_closest = in_closest / out.eclipsed_keys;
  out.closest_sybil_cpl = cpl / out.eclipsed_keys;
}

// Builds the overlay, measuring time and heap; fills the bootstrap fields.
void Build(SimOverlay& overlay, const LookupBenchOptions& options,
           const BenchHooks& hooks, LookupBenchReport& report) {
  const size_t heap_before = HeapInUse();
  const absl::Time wall_start = absl::Now();
  const absl::Time virtual_start = overlay.clock().Now();
  if (options.join == JoinMethod::kOracle) {
    // Adding the nodes, then filling their tables: 2n steps.
    // Stopped early, the lookup phase sees the stop flag and runs nothing.
    overlay.OracleGrowTo(options.nodes, [&](size_t done) {
      if (hooks.progress) hooks.progress("join", done, 2 * options.nodes);
      return !(hooks.stop && hooks.stop->load());
    });
  } else {
    report.bootstrap_failures =
        overlay.GrowTo(options.nodes, [&](size_t settled) {
          if (hooks.progress) {
            hooks.progress("bootstrap", settled, options.nodes);
          }
          return !(hooks.stop && hooks.stop->load());
        });
  }
  report.bootstrap_seconds =
      absl::ToDoubleSeconds(absl::Now() - wall_start);
  report.bootstrap_virtual_seconds =
      absl::ToDoubleSeconds(overlay.clock().Now() - virtual_start);
  const size_t heap_after = HeapInUse();
  report.nodes = overlay.size();
  report.bytes_per_node =
      heap_after > heap_before
          ? static_cast<double>(heap_after - heap_before) / overlay.size()
          : 0;
}

AdversaryOptions AdversaryOptionsOf(const LookupBenchOptions& options) {
  AdversaryOptions adversary;
  adversary.fraction = options.adversary;
  adversary.attack = options.attack;
  adversary.shared_prefix = options.sybils_share_prefix;
  adversary.bucket_size = options.k;
  adversary.sybils_per_key = options.k;
  return adversary;
}

// The keys the plan's gets read, in the order they are read.
std::vector<dht::NodeId> EclipseTargets(const std::vector<PlannedLookup>& plan) {
  std::vector<dht::NodeId> targets;
  for (const PlannedLookup& planned : plan) {
    if (planned.kind == LookupKind::kGet) targets.push_back(planned.target);
  }
  return targets;
}

IdIndex IndexOf(BenchOverlay& overlay) {
  IdIndex index;
  for (size_t i = 0; i < overlay.size(); ++i) index.Add(overlay.node(i).id(), i);
  return index;
}

}  // namespace

size_t HeapInUse() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

const char* IdBindingName(LookupBenchOptions::IdBinding mode) {
  switch (mode) {
    case LookupBenchOptions::IdBinding::kOff:
      return "off";
    case LookupBenchOptions::IdBinding::kBound:
      return "bound";
    case LookupBenchOptions::IdBinding::kEnforced:
      return "enforced";
  }
  return "off";
}

absl::StatusOr<LookupBenchOptions::IdBinding> ParseIdBinding(
    std::string_view text) {
  using Mode = LookupBenchOptions::IdBinding;
  for (Mode mode : {Mode::kOff, Mode::kBound, Mode::kEnforced}) {
    if (text == IdBindingName(mode)) return mode;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown id binding '", std::string(text), "' (off, bound or enforced)"));
}

absl::Status ValidateLookupBench(const LookupBenchOptions& options) {
  if (options.nodes < 2) {
    return absl::InvalidArgumentError("--nodes must be at least 2");
  }
  if (!(options.loss >= 0 && options.loss < 1)) {
    return absl::InvalidArgumentError("--loss must be in [0, 1)");
  }
  if (!(options.churn >= 0 && options.churn <= 1)) {
    return absl::InvalidArgumentError("--churn must be in [0, 1]");
  }
  dht::NodeOptions node;
  node.bucket_size = options.k;
  node.parallelism = options.alpha;
  node.disjoint_paths = options.disjoint_paths;
  if (absl::Status valid = dht::ValidateNodeOptions(node); !valid.ok()) {
    return valid;
  }
  if (!(options.adversary >= 0 && options.adversary < 1)) {
    return absl::InvalidArgumentError("--adversary must be in [0, 1)");
  }
  if ((options.adversary > 0) != (options.attack != AttackMode::kNone)) {
    return absl::InvalidArgumentError(
        "--adversary F and --attack drop|eclipse go together");
  }
  if (options.in_flight < 1) {
    return absl::InvalidArgumentError("--in-flight must be at least 1");
  }
  if (options.sim_threads < 1 ||
      options.sim_threads > net::SimLanes::kMaxLanes) {
    return absl::InvalidArgumentError("--sim-threads must be in [1, 64]");
  }
  if (options.sim_threads > 1 && options.adversary > 0) {
    return absl::InvalidArgumentError(
        "--sim-threads above 1 needs an honest overlay (no --adversary)");
  }
  if (options.transport == BenchTransport::kUdp &&
      (options.loss > 0 || options.churn > 0 || options.baseline_flooding ||
       options.join == JoinMethod::kOracle || options.adversary > 0)) {
    return absl::InvalidArgumentError(
        "--loss, --churn, --baseline, --join oracle and --adversary need "
        "--sim (the simulator)");
  }
  if (options.transport == BenchTransport::kUdp &&
      options.id_binding != LookupBenchOptions::IdBinding::kOff) {
    return absl::InvalidArgumentError("--id-binding needs --sim");
  }
  return ValidateLinkModel(options.link);
}

std::vector<PlannedLookup> PlanLookups(const LookupBenchOptions& options) {
  std::mt19937_64 gen(options.seed ^ 0x706c616e);  // "plan"
  std::vector<PlannedLookup> plan(options.lookups);
  for (size_t i = 0; i < plan.size(); ++i) {
    if (i % 2 == 0) {
      plan[i].kind = LookupKind::kFindNode;
      plan[i].target = dht::NodeId::Random(gen);
    } else {
      plan[i].kind = LookupKind::kGet;
      plan[i].key = i / 2;
      plan[i].target = dht::NodeId::ForKey(KeyName(plan[i].key));
    }
  }
  return plan;
}

LookupStatsSummary Summarize(const std::vector<LookupRecord>& records,
                             size_t begin, size_t end, double median_rtt_ms,
                             std::optional<LookupKind> kind) {
  LookupStatsSummary out;
  std::vector<double> hops, rpcs, bytes, ms, rtt;
  for (size_t i = begin; i < std::min(end, records.size()); ++i) {
    const LookupRecord& record = records[i];
    if (!record.ran || (kind && record.kind != *kind)) continue;
    ++out.lookups;
    if (!record.sample.success) continue;
    ++out.successes;
    hops.push_back(record.sample.hops);
    rpcs.push_back(record.sample.messages);
    bytes.push_back(static_cast<double>(record.sample.bytes));
    ms.push_back(Ms(record.sample.latency));
    rtt.push_back(median_rtt_ms > 0 ? ms.back() / median_rtt_ms : 0);
  }
  out.hops = Summarize(std::move(hops));
  out.rpcs = Summarize(std::move(rpcs));
  out.bytes = Summarize(std::move(bytes));
  std::sort(ms.begin(), ms.end());
  for (double percentile : kCdfPercentiles) {
    if (ms.empty()) break;
    out.latency_cdf.emplace_back(NearestRank(ms, percentile), percentile / 100);
  }
  out.latency_ms = Summarize(std::move(ms));
  out.latency_rtt = Summarize(std::move(rtt));
  return out;
}

std::vector<LookupRecord> MeasureLookups(
    BenchOverlay& overlay, IdIndex& live,
    const std::vector<PlannedLookup>& plan, const BenchHooks& hooks,
    LookupBenchReport& report,
    std::function<bool(size_t index)> may_originate) {
  const LookupBenchOptions& options = report.options;
  report.keys = plan.size() / 2;
  LookupPhaseOptions phase_options;
  phase_options.seed = options.seed;
  phase_options.in_flight = options.in_flight;
  phase_options.churn = options.churn;
  phase_options.stop = hooks.stop;
  phase_options.may_originate = may_originate;
  LookupPhase phase(overlay, live, phase_options);
  if (hooks.progress) {
    phase.set_progress(
        [&](size_t done) { hooks.progress("store", done, report.keys); });
  }
  report.put_failures = phase.StoreKeys(report.keys);

  const absl::Time lookups_start = absl::Now();
  if (hooks.progress) {
    phase.set_progress(
        [&](size_t done) { hooks.progress("lookups", done, plan.size()); });
  }
  std::vector<LookupRecord> records = phase.RunLookups(plan);
  report.lookup_seconds = absl::ToDoubleSeconds(absl::Now() - lookups_start);
  report.churn_replaced = phase.replaced();
  report.interrupted = phase.stopped();
  const double rtt = report.median_rtt_ms;
  report.all = Summarize(records, 0, records.size(), rtt);
  report.lookups = report.all.lookups;
  report.find_node =
      Summarize(records, 0, records.size(), rtt, LookupKind::kFindNode);
  report.get = Summarize(records, 0, records.size(), rtt, LookupKind::kGet);
  return records;
}

absl::StatusOr<LookupBenchReport> RunSimLookupBench(
    const LookupBenchOptions& options, const BenchHooks& hooks) {
  if (absl::Status valid = ValidateLookupBench(options); !valid.ok()) {
    return valid;
  }
  LookupBenchReport report;
  report.options = options;
  const std::vector<PlannedLookup> plan = PlanLookups(options);
  SimOverlay overlay(OverlayOptions(options));
  // Made once the overlay (whose clock they borrow) exists, before any
  // node is added; destroyed after it (declared after it).
  std::unique_ptr<Adversaries> adversaries;
  if (options.attack != AttackMode::kNone) {
    AdversaryOptions adversary = AdversaryOptionsOf(options);
    if (options.id_binding == LookupBenchOptions::IdBinding::kEnforced) {
      adversary.binding = OverlayOptions(options).node.id_binding;
    }
    adversaries = std::make_unique<Adversaries>(
        adversary, options.seed ^ 0x7379626c,  // "sybl"
        overlay.clock(), EclipseTargets(plan));
    overlay.set_hook(adversaries.get());
  }
  Build(overlay, options, hooks, report);
  report.median_rtt_ms = MedianRttMs(overlay, options.seed);
  const IdIndex initial = IndexOf(overlay);
  IdIndex live = initial;

  std::function<bool(size_t)> honest;
  if (adversaries) {
    adversaries->Activate();  // Built: the attack starts with the puts.
    honest = [&](size_t i) { return !adversaries->IsAdversary(i); };
  }
  std::vector<LookupRecord> records =
      MeasureLookups(overlay, live, plan, hooks, report, honest);
  if (adversaries) {
    AdversaryReport& out = report.adversary.emplace();
    out.adversaries = adversaries->count();
    out.eclipsed_keys = adversaries->eclipsed_targets();
    out.stores_dropped = adversaries->stores_dropped();
    out.finds_answered = adversaries->finds_answered();
    // Gets are the odd indices; the get at index 2j + 1 reads key j.
    out.eclipsed_gets =
        Summarize(records, 0, 2 * out.eclipsed_keys, report.median_rtt_ms,
                  LookupKind::kGet);
    MeasurePlacement(initial, *adversaries, EclipseTargets(plan),
                     options.k, out);
  }
  if (options.baseline_flooding && !report.interrupted) {
    absl::StatusOr<BaselineReport> baseline = RunFloodingBaseline(
        options, plan, records, initial, report.median_rtt_ms, hooks);
    if (!baseline.ok()) return baseline.status();
    report.baseline = *std::move(baseline);
  }
  return report;
}

}  // namespace kad::bench

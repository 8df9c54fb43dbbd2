#include "bench/udp_lookup_bench.h"

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "absl/time/clock.h"
#include "bench/udp_overlay.h"
#include "net/uv_clock.h"
#include "net/uv_loop.h"

namespace kad::bench {
namespace {

// Pings between random pairs of joined nodes that measure the median RTT.
constexpr int kRttPings = 201;

// Returns the median RTT, in ms, of pings between random joined pairs.
double MeasureMedianRttMs(UdpOverlay& overlay, uint64_t seed) {
  const std::vector<int>& joined = overlay.joined();
  if (joined.size() < 2) return 0;
  std::mt19937_64 gen(seed ^ 0x727474);  // "rtt"
  std::vector<double> rtts;
  int outstanding = 0;
  for (int i = 0; i < kRttPings; ++i) {
    const size_t a = gen() % joined.size();
    const size_t b = (a + 1 + gen() % (joined.size() - 1)) % joined.size();
    ++outstanding;
    overlay.node(joined[a]).Ping(
        overlay.node(joined[b]).endpoint(),
        [&](absl::StatusOr<dht::PingResult> pong) {
          --outstanding;
          if (pong.ok()) rtts.push_back(absl::ToDoubleMilliseconds(pong->rtt));
        });
  }
  overlay.RunUntil([&] { return outstanding == 0; });
  std::sort(rtts.begin(), rtts.end());
  return NearestRank(rtts, 50);
}

absl::StatusOr<LookupBenchReport> Run(const LookupBenchOptions& options,
                                      const BenchHooks& hooks,
                                      net::UvLoop& loop, net::UvClock& clock) {
  LookupBenchReport report;
  report.options = options;
  UdpOverlayOptions overlay_options;
  overlay_options.nodes = static_cast<int>(options.nodes);
  overlay_options.listen_base = net::Endpoint::Ipv4({127, 0, 0, 1}, 0);
  overlay_options.node.bucket_size = options.k;
  overlay_options.node.parallelism = options.alpha;
  overlay_options.node.disjoint_paths = options.disjoint_paths;
  overlay_options.seed = options.seed;
  const size_t heap_before = HeapInUse();
  const absl::Time wall_start = absl::Now();
  absl::StatusOr<std::unique_ptr<UdpOverlay>> created =
      UdpOverlay::Create(overlay_options, loop, clock);
  if (!created.ok()) return created.status();
  UdpOverlay& overlay = **created;
  overlay.JoinAll([&](size_t settled) {
    if (hooks.progress) hooks.progress("bootstrap", settled, options.nodes);
    return !(hooks.stop && hooks.stop->load());
  });
  report.bootstrap_seconds = absl::ToDoubleSeconds(absl::Now() - wall_start);
  report.bootstrap_virtual_seconds = report.bootstrap_seconds;
  report.bootstrap_failures = overlay.failed_joins();
  report.nodes = overlay.size();
  const size_t heap_after = HeapInUse();
  report.bytes_per_node =
      heap_after > heap_before
          ? static_cast<double>(heap_after - heap_before) / overlay.size()
          : 0;
  report.median_rtt_ms = MeasureMedianRttMs(overlay, options.seed);

  IdIndex live;
  for (int i : overlay.joined()) live.Add(overlay.node(i).id(), i);
  MeasureLookups(overlay, live, PlanLookups(options), hooks, report);
  return report;
}

}  // namespace

absl::StatusOr<LookupBenchReport> RunUdpLookupBench(
    const LookupBenchOptions& options, const BenchHooks& hooks) {
  if (absl::Status valid = ValidateLookupBench(options); !valid.ok()) {
    return valid;
  }
  absl::StatusOr<std::unique_ptr<net::UvLoop>> loop = net::UvLoop::Create();
  if (!loop.ok()) return loop.status();
  net::UvClock clock((*loop)->raw());
  return Run(options, hooks, **loop, clock);
}

}  // namespace kad::bench

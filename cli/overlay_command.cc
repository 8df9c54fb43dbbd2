#include "cli/overlay_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/udp_overlay.h"
#include "cli/arguments.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/output.h"
#include "net/uv_clock.h"
#include "net/uv_loop.h"
#include "spdlog/spdlog.h"

namespace kad::cli {
namespace {

constexpr absl::Duration kProgressPeriod = absl::Milliseconds(200);
// How soon a shard done joining notices that the others are done too.
constexpr absl::Duration kServePeriod = absl::Milliseconds(10);
// Addresses printed as "bootstrap ..." lines once the overlay is up.
constexpr int kAnnouncedSeeds = 3;
// Threads for --threads 0.
constexpr int kMaxAutoThreads = 8;

// One thread's part of the overlay: its nodes, on its own loop.
struct Shard {
  std::unique_ptr<net::UvLoop> loop;
  std::unique_ptr<net::UvClock> clock;
  std::unique_ptr<bench::UdpOverlay> overlay;
  std::atomic<int> settled{0};  // Joins finished, for the progress bar.
};

void DrawProgress(const std::vector<std::unique_ptr<Shard>>& shards, int nodes,
                  absl::Time started, bool final) {
  int done = 0;
  for (const auto& shard : shards) done += shard->settled.load();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started);
  constexpr int kWidth = 30;
  const int filled = kWidth * done / std::max(nodes, 1);
  std::string bar(filled, '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r[%s] joined %d/%d  %.1f s  %.0f nodes/s%s",
               bar.c_str(), done, nodes, seconds,
               seconds > 0 ? done / seconds : 0.0, final ? "\n" : "");
  std::fflush(stderr);
}

// Runs `loop` until `done()`, looking at least every `period`: done() turns
// true on another thread, and this loop may have nothing to wake it.
void RunLoopUntil(net::UvLoop& loop, absl::FunctionRef<bool()> done,
                  absl::Duration period) {
  while (!done()) loop.RunUntil(done, period);
}

// Returns the CPU time (user and system) this process has used, all
// threads together.
absl::Duration CpuTime() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) +
         absl::DurationFromTimeval(usage.ru_stime);
}

// Binds and builds every shard's nodes: shard s gets the next
// nodes / shards of them (ports from --listen-base upward across shards),
// and every shard but the first enters the overlay through the first's
// node 0.
absl::Status BuildShards(const OverlayFlags& flags, const net::Endpoint& base,
                         int threads,
                         std::vector<std::unique_ptr<Shard>>& shards) {
  int first = 0;
  for (int s = 0; s < threads; ++s) {
    const int nodes = flags.nodes / threads + (s < flags.nodes % threads);
    auto shard = std::make_unique<Shard>();
    absl::StatusOr<std::unique_ptr<net::UvLoop>> loop = net::UvLoop::Create();
    if (!loop.ok()) return loop.status();
    shard->loop = *std::move(loop);
    shard->clock = std::make_unique<net::UvClock>(shard->loop->raw());
    bench::UdpOverlayOptions options;
    options.nodes = nodes;
    options.listen_base =
        base.port() == 0
            ? base
            : base.WithPort(static_cast<uint16_t>(base.port() + first));
    options.node.bucket_size = flags.k;
    options.node.parallelism = flags.alpha;
    options.seed = static_cast<uint64_t>(flags.nodes) + s;
    // Real sockets: the seed picks ids, but secrets come from the CSPRNG.
    options.node.secrets = dht::NodeOptions::SecretSource::kCsprng;
    if (s > 0) options.entry = {shards[0]->overlay->node(0).endpoint()};
    absl::StatusOr<std::unique_ptr<bench::UdpOverlay>> overlay =
        bench::UdpOverlay::Create(options, *shard->loop, *shard->clock);
    if (!overlay.ok()) return overlay.status();
    shard->overlay = *std::move(overlay);
    shards.push_back(std::move(shard));
    first += nodes;
  }
  return absl::OkStatus();
}

// Joins every node, each shard on its own thread, with a progress bar on
// stderr when it is a terminal.
void JoinAll(std::vector<std::unique_ptr<Shard>>& shards, int nodes) {
  const absl::Time started = absl::Now();
  const absl::Duration cpu_before = CpuTime();
  // The last shard to finish wakes this thread at once: the time printed is
  // when the overlay came up, not the next progress tick after it.
  std::mutex mutex;
  std::condition_variable finished;
  std::atomic<int> running{static_cast<int>(shards.size())};
  std::vector<std::thread> threads;
  for (auto& shard : shards) {
    threads.emplace_back([&shard, &mutex, &finished, &running] {
      shard->overlay->JoinAll([&shard](size_t settled) {
        shard->settled.store(static_cast<int>(settled));
        return true;
      });
      if (running.fetch_sub(1) == 1) {
        const std::lock_guard<std::mutex> lock(mutex);
        finished.notify_one();
      }
      // A shard done joining goes on answering the others until they are
      // done too: had its loop stopped, their requests to its nodes would
      // time out, and a second thread often took half as long again.
      RunLoopUntil(
          *shard->loop, [&running] { return running.load() == 0; },
          kServePeriod);
    });
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto period = absl::ToChronoMilliseconds(kProgressPeriod);
  for (std::unique_lock<std::mutex> lock(mutex); !finished.wait_for(
           lock, period, [&running] { return running.load() == 0; });) {
    if (tty) DrawProgress(shards, nodes, started, false);
  }
  const absl::Duration up = absl::Now() - started;
  for (std::thread& thread : threads) thread.join();
  int joined = 0, failed = 0;
  for (const auto& shard : shards) {
    const int shard_joined = static_cast<int>(shard->overlay->joined().size());
    const int shard_failed = shard->overlay->failed_joins();
    shard->settled.store(shard_joined + shard_failed);  // The final count.
    joined += shard_joined;
    failed += shard_failed;
  }
  if (tty) DrawProgress(shards, nodes, started, true);
  spdlog::warn(
      "overlay of {} nodes up in {:.2f} s, {:.2f} s of CPU on {} thread{} "
      "({} failed to join)",
      joined, absl::ToDoubleSeconds(up),
      absl::ToDoubleSeconds(CpuTime() - cpu_before), shards.size(),
      shards.size() == 1 ? "" : "s", failed);
}

void Announce(bench::UdpOverlay& overlay, std::FILE* out) {
  const std::vector<int>& joined = overlay.joined();
  for (int i = 0; i < kAnnouncedSeeds && i < static_cast<int>(joined.size());
       ++i) {
    std::fprintf(out, "bootstrap %s\n",
                 overlay.node(joined[i]).endpoint().ToString().c_str());
  }
  std::fflush(out);
}

absl::Status WriteEndpoints(const std::vector<std::unique_ptr<Shard>>& shards,
                            const std::string& path) {
  std::ofstream file(path, std::ios::trunc);
  for (const auto& shard : shards) {
    bench::UdpOverlay& overlay = *shard->overlay;
    for (size_t i = 0; i < overlay.size(); ++i) {
      file << overlay.node(i).id().ToHex() << ' '
           << overlay.node(i).endpoint().ToString() << '\n';
    }
  }
  file.flush();
  if (!file) {
    return absl::UnavailableError(absl::StrCat("cannot write --out ", path));
  }
  return absl::OkStatus();
}

// Returns --threads, or one per core (at most kMaxAutoThreads) for 0, and
// never more threads than nodes.
int ThreadsFor(const OverlayFlags& flags) {
  int threads = flags.threads;
  if (threads == 0) {
    threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()),
                         1, kMaxAutoThreads);
  }
  return std::min(threads, flags.nodes);
}

absl::Status ServeOverlay(const OverlayFlags& flags) {
  SetLogLevel(flags.log_level);
  absl::StatusOr<net::Endpoint> base = ResolveAddress(flags.listen_base);
  if (!base.ok()) return base.status();
  if (absl::Status fds = bench::EnsureDescriptors(flags.nodes); !fds.ok()) {
    return fds;
  }
  std::vector<std::unique_ptr<Shard>> shards;
  if (absl::Status built = BuildShards(flags, *base, ThreadsFor(flags), shards);
      !built.ok()) {
    return built;
  }
  JoinAll(shards, flags.nodes);
  if (!flags.out.empty()) {
    if (absl::Status written = WriteEndpoints(shards, flags.out);
        !written.ok()) {
      return written;
    }
  }
  // The other shards serve on their threads until the first one's loop,
  // on this thread, stops on SIGINT or SIGTERM.
  std::atomic<bool> stopping{false};
  std::vector<std::thread> threads;
  for (size_t s = 1; s < shards.size(); ++s) {
    threads.emplace_back([&shard = *shards[s], &stopping] {
      RunLoopUntil(
          *shard.loop, [&stopping] { return stopping.load(); },
          kProgressPeriod);
    });
  }
  // Announce from inside the running loop, once SIGINT and SIGTERM are
  // handled, so a script that reads the addresses may signal us at once.
  Shard& first = *shards[0];
  first.clock->Schedule(absl::ZeroDuration(),
                        [&first] { Announce(*first.overlay, stdout); });
  first.loop->Run(net::StopOnSignals::kYes);
  stopping.store(true);
  for (std::thread& thread : threads) thread.join();
  spdlog::info("stopping the overlay");
  return absl::OkStatus();
}

}  // namespace

int RunOverlay(const OverlayFlags& flags) {
  absl::Status status = ServeOverlay(flags);
  return status.ok() ? kExitOk : ReportFailure(status);
}

}  // namespace kad::cli

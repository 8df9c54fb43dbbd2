#include "cli/overlay_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <utility>
#include <vector>

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
// Addresses printed as "bootstrap ..." lines once the overlay is up.
constexpr int kAnnouncedSeeds = 3;

void DrawProgress(const bench::UdpOverlay& overlay, int nodes,
                  absl::Time started, bool final) {
  const int joined = static_cast<int>(overlay.joined().size());
  const int done = joined + overlay.failed_joins();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started);
  constexpr int kWidth = 30;
  const int filled = kWidth * done / std::max(nodes, 1);
  std::string bar(filled, '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r[%s] joined %d/%d  %.1f s  %.0f nodes/s%s",
               bar.c_str(), joined, nodes, seconds,
               seconds > 0 ? done / seconds : 0.0, final ? "\n" : "");
  std::fflush(stderr);
}

// Returns the CPU time (user and system) this process has used.
absl::Duration CpuTime() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) +
         absl::DurationFromTimeval(usage.ru_stime);
}

// Joins every node, with a progress bar on stderr when it is a terminal.
void JoinAll(bench::UdpOverlay& overlay, int nodes) {
  const absl::Time started = absl::Now();
  const absl::Duration cpu_before = CpuTime();
  const bool tty = isatty(STDERR_FILENO) != 0;
  absl::Time next_draw = started;
  overlay.JoinAll([&](size_t) {
    if (tty && absl::Now() >= next_draw) {
      DrawProgress(overlay, nodes, started, false);
      next_draw = absl::Now() + kProgressPeriod;
    }
    return true;
  });
  if (tty) DrawProgress(overlay, nodes, started, true);
  spdlog::warn(
      "overlay of {} nodes up in {:.2f} s, {:.2f} s of CPU ({} failed to join)",
      overlay.joined().size(), absl::ToDoubleSeconds(absl::Now() - started),
      absl::ToDoubleSeconds(CpuTime() - cpu_before), overlay.failed_joins());
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

absl::Status WriteEndpoints(bench::UdpOverlay& overlay,
                            const std::string& path) {
  std::ofstream file(path, std::ios::trunc);
  for (size_t i = 0; i < overlay.size(); ++i) {
    file << overlay.node(i).id().ToHex() << ' '
         << overlay.node(i).endpoint().ToString() << '\n';
  }
  file.flush();
  if (!file) {
    return absl::UnavailableError(absl::StrCat("cannot write --out ", path));
  }
  return absl::OkStatus();
}

absl::Status ServeOverlay(const OverlayFlags& flags) {
  SetLogLevel(flags.log_level);
  absl::StatusOr<net::Endpoint> base = ResolveAddress(flags.listen_base);
  if (!base.ok()) return base.status();
  if (absl::Status fds = bench::EnsureDescriptors(flags.nodes); !fds.ok()) {
    return fds;
  }
  absl::StatusOr<std::unique_ptr<net::UvLoop>> loop = net::UvLoop::Create();
  if (!loop.ok()) return loop.status();
  net::UvClock clock((*loop)->raw());
  bench::UdpOverlayOptions options;
  options.nodes = flags.nodes;
  options.listen_base = *base;
  options.node.bucket_size = flags.k;
  options.node.parallelism = flags.alpha;
  options.seed = static_cast<uint64_t>(flags.nodes);
  // Real sockets: the seed picks ids, but secrets come from the CSPRNG.
  options.node.secrets = dht::NodeOptions::SecretSource::kCsprng;
  absl::StatusOr<std::unique_ptr<bench::UdpOverlay>> overlay =
      bench::UdpOverlay::Create(options, **loop, clock);
  if (!overlay.ok()) return overlay.status();
  JoinAll(**overlay, flags.nodes);
  if (!flags.out.empty()) {
    if (absl::Status written = WriteEndpoints(**overlay, flags.out);
        !written.ok()) {
      return written;
    }
  }
  // Announce from inside the running loop, once SIGINT and SIGTERM are
  // handled, so a script that reads the addresses may signal us at once.
  clock.Schedule(absl::ZeroDuration(),
                 [&overlay] { Announce(**overlay, stdout); });
  (*loop)->Run(net::StopOnSignals::kYes);
  spdlog::info("stopping the overlay");
  return absl::OkStatus();
}

}  // namespace

int RunOverlay(const OverlayFlags& flags) {
  absl::Status status = ServeOverlay(flags);
  return status.ok() ? kExitOk : ReportFailure(status);
}

}  // namespace kad::cli

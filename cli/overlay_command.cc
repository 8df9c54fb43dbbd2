#include "cli/overlay_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/arguments.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/output.h"
#include "dht/node.h"
#include "net/udp_transport.h"
#include "net/uv_clock.h"
#include "net/uv_loop.h"
#include "spdlog/spdlog.h"
#include "storage/memory_store.h"

namespace kad::cli {
namespace {

// Bootstraps in flight at once: enough to keep the loop busy, few enough
// that joining nodes find a settled overlay to join.
constexpr int kParallelJoins = 32;
// Seeds handed to each joining node, drawn from the nodes already joined.
constexpr int kSeedsPerJoin = 3;
// File descriptors kept for everything but the sockets (stdio, loop, ...).
constexpr rlim_t kSpareDescriptors = 64;
constexpr absl::Duration kProgressPeriod = absl::Milliseconds(200);
// Addresses printed as "bootstrap ..." lines once the overlay is up.
constexpr int kAnnouncedSeeds = 3;

// Raises the soft descriptor limit far enough for `sockets`, or explains
// why it cannot.
absl::Status EnsureDescriptors(int sockets) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::OkStatus();
  const rlim_t needed = static_cast<rlim_t>(sockets) + kSpareDescriptors;
  if (limit.rlim_cur >= needed) return absl::OkStatus();
  if (limit.rlim_max < needed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--nodes ", sockets, " needs about ", needed,
        " open files, but the limit is ", limit.rlim_max,
        " (raise it with ulimit -n, or start fewer nodes)"));
  }
  limit.rlim_cur = needed;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot raise the open-file limit to ", needed));
  }
  return absl::OkStatus();
}

struct Member {
  std::unique_ptr<net::UdpTransport> transport;
  std::unique_ptr<storage::MemoryStore> store;
  std::unique_ptr<dht::Node> node;
};

// The overlay's nodes and the join schedule. Lifetime: the loop outlives
// it; destroying it destroys the nodes before their transports.
class Overlay {
 public:
  Overlay(const OverlayFlags& flags, net::UvLoop& loop, net::UvClock& clock)
      : flags_(flags), loop_(loop), clock_(clock), gen_(flags.nodes) {}

  // Binds every socket and builds every node; nothing is sent yet.
  absl::Status Build(const net::Endpoint& base);
  // Joins all nodes; returns once every join finished.
  void JoinAll();
  void Report(std::FILE* out) const;
  absl::Status WriteEndpoints(const std::string& path) const;
  int failed_joins() const { return failed_; }

 private:
  void StartNextJoins();
  void OnJoined(int index, bool ok);
  void DrawProgress(bool final) const;

  const OverlayFlags& flags_;
  net::UvLoop& loop_;
  net::UvClock& clock_;
  std::mt19937_64 gen_;
  std::vector<Member> members_;
  std::vector<int> joined_;  // Indices of nodes that joined, in order.
  int next_ = 1;             // Next node to start joining.
  int in_flight_ = 0;
  int failed_ = 0;
  absl::Time started_;
};

absl::Status Overlay::Build(const net::Endpoint& base) {
  members_.reserve(flags_.nodes);
  for (int i = 0; i < flags_.nodes; ++i) {
    net::Endpoint bind =
        base.port() == 0 ? base : base.WithPort(static_cast<uint16_t>(base.port() + i));
    if (base.port() != 0 && base.port() + i > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen-base port ", base.port(), " + ", flags_.nodes,
          " nodes runs past port 65535"));
    }
    net::UdpOptions udp;
    udp.receive_buffer_bytes = 256 << 10;  // Thousands of sockets: stay modest.
    udp.send_buffer_bytes = 256 << 10;
    auto transport = net::UdpTransport::Create(loop_.raw(), bind, udp);
    if (!transport.ok()) return transport.status();
    Member member{*std::move(transport),
                  std::make_unique<storage::MemoryStore>(), nullptr};
    dht::NodeOptions options;
    options.bucket_size = flags_.k;
    options.parallelism = flags_.alpha;
    member.node = std::make_unique<dht::Node>(options, *member.transport,
                                              clock_, *member.store);
    member.node->Start();
    members_.push_back(std::move(member));
  }
  return absl::OkStatus();
}

void Overlay::JoinAll() {
  started_ = absl::Now();
  joined_.push_back(0);  // The first node starts the overlay.
  StartNextJoins();
  bool tty = isatty(STDERR_FILENO) != 0;
  absl::Time next_draw = absl::Now();
  while (in_flight_ > 0) {
    loop_.RunUntil([&] { return in_flight_ == 0 || absl::Now() >= next_draw; },
                   kProgressPeriod);
    if (tty) DrawProgress(false);
    next_draw = absl::Now() + kProgressPeriod;
  }
  if (tty) DrawProgress(true);
}

void Overlay::StartNextJoins() {
  while (in_flight_ < kParallelJoins && next_ < flags_.nodes) {
    const int index = next_++;
    std::vector<net::Endpoint> seeds;
    for (int s = 0; s < kSeedsPerJoin; ++s) {
      int seed = joined_[gen_() % joined_.size()];
      seeds.push_back(members_[seed].node->endpoint());
    }
    ++in_flight_;
    members_[index].node->Bootstrap(
        seeds, [this, index](absl::StatusOr<int> joined) {
          OnJoined(index, joined.ok());
        });
  }
}

void Overlay::OnJoined(int index, bool ok) {
  --in_flight_;
  if (ok) {
    joined_.push_back(index);
  } else {
    ++failed_;
    spdlog::warn("node {} failed to join", index);
  }
  StartNextJoins();
}

void Overlay::DrawProgress(bool final) const {
  const int done = static_cast<int>(joined_.size()) + failed_;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started_);
  constexpr int kWidth = 30;
  const int filled = kWidth * done / std::max(flags_.nodes, 1);
  std::string bar(filled, '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r[%s] joined %d/%d  %.1f s  %.0f nodes/s%s",
               bar.c_str(), static_cast<int>(joined_.size()), flags_.nodes,
               seconds, seconds > 0 ? done / seconds : 0.0,
               final ? "\n" : "");
  std::fflush(stderr);
}

void Overlay::Report(std::FILE* out) const {
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started_);
  spdlog::warn("overlay of {} nodes up in {:.1f} s ({} failed to join)",
               joined_.size(), seconds, failed_);
  for (int i = 0; i < kAnnouncedSeeds && i < static_cast<int>(joined_.size()); ++i) {
    std::fprintf(out, "bootstrap %s\n",
                 members_[joined_[i]].node->endpoint().ToString().c_str());
  }
  std::fflush(out);
}

absl::Status Overlay::WriteEndpoints(const std::string& path) const {
  std::ofstream file(path, std::ios::trunc);
  for (const Member& member : members_) {
    file << member.node->id().ToHex() << ' '
         << member.node->endpoint().ToString() << '\n';
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
  if (absl::Status fds = EnsureDescriptors(flags.nodes); !fds.ok()) return fds;
  absl::StatusOr<std::unique_ptr<net::UvLoop>> loop = net::UvLoop::Create();
  if (!loop.ok()) return loop.status();
  net::UvClock clock((*loop)->raw());
  Overlay overlay(flags, **loop, clock);
  if (absl::Status built = overlay.Build(*base); !built.ok()) return built;
  overlay.JoinAll();
  if (!flags.out.empty()) {
    if (absl::Status written = overlay.WriteEndpoints(flags.out);
        !written.ok()) {
      return written;
    }
  }
  // Announce from inside the running loop, once SIGINT and SIGTERM are
  // handled, so a script that reads the addresses may signal us at once.
  clock.Schedule(absl::ZeroDuration(), [&overlay] { overlay.Report(stdout); });
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

#include "bench/udp_overlay.h"

#include <sys/resource.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace kad::bench {
namespace {

// Bootstraps in flight at once: enough to keep the loop busy, few enough
// that joining nodes find a settled overlay to join.
constexpr int kParallelJoins = 32;
// Seeds handed to each joining node, drawn from the nodes already joined.
constexpr int kSeedsPerJoin = 3;
// File descriptors kept for everything but the sockets (stdio, loop, ...).
constexpr rlim_t kSpareDescriptors = 64;
constexpr absl::Duration kCheckPeriod = absl::Milliseconds(200);
constexpr absl::Duration kRunLimit = absl::Minutes(10);

}  // namespace

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

absl::StatusOr<std::unique_ptr<UdpOverlay>> UdpOverlay::Create(
    UdpOverlayOptions options, net::UvLoop& loop, net::UvClock& clock) {
  if (absl::Status fds = EnsureDescriptors(options.nodes); !fds.ok()) {
    return fds;
  }
  std::unique_ptr<UdpOverlay> overlay(
      new UdpOverlay(std::move(options), loop, clock));
  if (absl::Status built = overlay->Build(); !built.ok()) return built;
  return overlay;
}

absl::Status UdpOverlay::Build() {
  const net::Endpoint& base = options_.listen_base;
  if (base.port() != 0 && base.port() + options_.nodes - 1 > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen-base port ", base.port(), " + ", options_.nodes,
        " nodes runs past port 65535"));
  }
  members_.reserve(options_.nodes);
  for (int i = 0; i < options_.nodes; ++i) {
    net::Endpoint bind =
        base.port() == 0 ? base
                         : base.WithPort(static_cast<uint16_t>(base.port() + i));
    net::UdpOptions udp;
    udp.receive_buffer_bytes = 256 << 10;  // Thousands of sockets: stay modest.
    udp.send_buffer_bytes = 256 << 10;
    auto transport = net::UdpTransport::Create(loop_.raw(), bind, udp);
    if (!transport.ok()) return transport.status();
    runtime::NodeRuntimeOptions node_options;
    node_options.node = options_.node;
    Member member{*std::move(transport), nullptr};
    absl::StatusOr<std::unique_ptr<runtime::NodeRuntime>> node_runtime =
        runtime::NodeRuntime::Create(std::move(node_options),
                                     *member.transport, clock_);
    if (!node_runtime.ok()) return node_runtime.status();
    member.runtime = *std::move(node_runtime);
    members_.push_back(std::move(member));
  }
  return absl::OkStatus();
}

void UdpOverlay::JoinAll(absl::FunctionRef<bool(size_t settled)> keep_going) {
  if (options_.entry.empty()) {
    joined_.push_back(0);  // The first node starts the overlay.
    StartNextJoins();
  } else {
    // The others wait for node 0: they join through the nodes joined here.
    ++in_flight_;
    members_[0].runtime->node().Bootstrap(
        options_.entry, [this](absl::StatusOr<int> joined) {
          OnJoined(0, joined.ok());
        });
  }
  while (in_flight_ > 0) {
    loop_.RunUntil([&] { return in_flight_ == 0; }, kCheckPeriod);
    if (!keep_going(joined_.size() + failed_)) {
      next_ = options_.nodes;  // Start no more; let running joins end.
    }
  }
}

void UdpOverlay::StartNextJoins() {
  if (joined_.empty()) {  // Node 0 could not enter: nobody to join through.
    failed_ += options_.nodes - next_;
    next_ = options_.nodes;
    return;
  }
  while (in_flight_ < kParallelJoins && next_ < options_.nodes) {
    const int index = next_++;
    std::vector<net::Endpoint> seeds;
    for (int s = 0; s < kSeedsPerJoin; ++s) {
      int seed = joined_[gen_() % joined_.size()];
      seeds.push_back(members_[seed].runtime->node().endpoint());
    }
    ++in_flight_;
    members_[index].runtime->node().Bootstrap(
        seeds, [this, index](absl::StatusOr<int> joined) {
          OnJoined(index, joined.ok());
        });
  }
}

void UdpOverlay::OnJoined(int index, bool ok) {
  --in_flight_;
  if (ok) {
    joined_.push_back(index);
  } else {
    ++failed_;
    spdlog::warn("node {} failed to join", index);
  }
  StartNextJoins();
}

bool UdpOverlay::RunUntil(absl::FunctionRef<bool()> done) {
  return loop_.RunUntil(done, kRunLimit);
}

}  // namespace kad::bench

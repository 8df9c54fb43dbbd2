// UdpOverlay: many real dht::Nodes in one process, each on its own UDP
// socket, all on one libuv loop — for `kad overlay` and for
// `kad bench lookup --udp`.
//
// Create() binds every socket (ports from the base upward, or all chosen
// by the OS when the base port is 0) and builds every node; JoinAll()
// joins them: the first starts the overlay (or joins through `entry`, an
// overlay running elsewhere), every later one bootstraps through a few
// nodes that have already joined, kParallelJoins at a time. Several
// UdpOverlays on their own loops and threads, all but the first entering
// through the first's node 0, make one overlay (`kad overlay --threads`).
//
// Ownership: the loop and clock are borrowed and must outlive the
// overlay, which destroys its nodes before their transports. Not
// thread-safe; call from the loop thread.
#ifndef KAD_BENCH_UDP_OVERLAY_H_
#define KAD_BENCH_UDP_OVERLAY_H_

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/bench_overlay.h"
#include "dht/node.h"
#include "net/udp_transport.h"
#include "net/uv_clock.h"
#include "net/uv_loop.h"
#include "runtime/node_runtime.h"

namespace kad::bench {

struct UdpOverlayOptions {
  int nodes = 100;
  net::Endpoint listen_base;  // Port p: nodes get p, p+1, ...; 0: OS picks.
  dht::NodeOptions node;      // k, alpha and the rest, for every node.
  uint64_t seed = 1;          // Picks the nodes each join goes through.
  // Nodes of an overlay running elsewhere that node 0 joins through; empty:
  // node 0 starts a new overlay.
  std::vector<net::Endpoint> entry;
};

// Raises the soft open-file limit far enough for `sockets`, or returns
// InvalidArgument explaining why it cannot (naming --nodes).
absl::Status EnsureDescriptors(int sockets);

class UdpOverlay final : public BenchOverlay {
 public:
  static absl::StatusOr<std::unique_ptr<UdpOverlay>> Create(
      UdpOverlayOptions options, net::UvLoop& loop, net::UvClock& clock);

  // Joins every node; returns once every join finished, or once
  // `keep_going(settled)` — called about every 200 ms with the number of
  // joins finished — returns false.
  void JoinAll(absl::FunctionRef<bool(size_t settled)> keep_going);
  // Indices of the nodes that joined, in order.
  const std::vector<int>& joined() const { return joined_; }
  int failed_joins() const { return failed_; }

  // BenchOverlay. RunUntil returns false if `done` does not hold within
  // ten minutes. No churn.
  size_t size() const override { return members_.size(); }
  dht::Node& node(size_t i) override { return members_[i].runtime->node(); }
  bool RunUntil(absl::FunctionRef<bool()> done) override;
  bool SupportsChurn() const override { return false; }
  void Crash(size_t) override {}
  dht::Node& AddNode() override { return members_.back().runtime->node(); }

 private:
  struct Member {
    std::unique_ptr<net::UdpTransport> transport;
    std::unique_ptr<runtime::NodeRuntime> runtime;  // In-memory stores.
  };

  UdpOverlay(UdpOverlayOptions options, net::UvLoop& loop, net::UvClock& clock)
      : options_(std::move(options)), loop_(loop), clock_(clock),
        gen_(options_.seed) {}
  absl::Status Build();
  void StartNextJoins();
  void OnJoined(int index, bool ok);

  UdpOverlayOptions options_;
  net::UvLoop& loop_;
  net::UvClock& clock_;
  std::mt19937_64 gen_;
  std::vector<Member> members_;
  std::vector<int> joined_;
  int next_ = 1;  // Next node to start joining.
  int in_flight_ = 0;
  int failed_ = 0;
};

}  // namespace kad::bench

#endif  // KAD_BENCH_UDP_OVERLAY_H_

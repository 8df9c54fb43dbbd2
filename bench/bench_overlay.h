// BenchOverlay: what the lookup benchmark needs from an overlay of nodes,
// whether simulated (SimOverlay) or real UDP sockets in one process
// (UdpOverlay): its nodes, a way to run its event loop until something
// holds, and — simulator only — churn.
//
// Not thread-safe; call from the thread that runs the overlay's loop.
#ifndef KAD_BENCH_BENCH_OVERLAY_H_
#define KAD_BENCH_BENCH_OVERLAY_H_

#include <cstddef>

#include "absl/functional/function_ref.h"
#include "dht/node.h"

namespace kad::bench {

class BenchOverlay {
 public:
  virtual ~BenchOverlay() = default;

  virtual size_t size() const = 0;
  virtual dht::Node& node(size_t i) = 0;
  // Runs the loop until `done()` holds (checked between events). Returns
  // false if it gave up first (nothing left to run, or a safety limit).
  virtual bool RunUntil(absl::FunctionRef<bool()> done) = 0;
  // Whether Crash() and AddNode() work here.
  virtual bool SupportsChurn() const = 0;
  // Silences node `i` for good (it stays in the overlay's list).
  virtual void Crash(size_t i) = 0;
  // Adds and starts a node at index size() - 1; does not bootstrap it.
  virtual dht::Node& AddNode() = 0;
};

}  // namespace kad::bench

#endif  // KAD_BENCH_BENCH_OVERLAY_H_

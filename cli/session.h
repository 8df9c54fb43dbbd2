// Session: one kad::dht::Node with everything it runs on — a libuv loop,
// its clock, a UDP socket, and the node's runtime (runtime/node_runtime.h:
// the node and its stores, in memory or in a data dir) — built for a
// command, and the helpers that run one node operation to completion.
//
// `kad node` starts the runtime and runs the session's loop until a
// signal; one-shot commands (put, get, ping, lookup) use a read-only
// session (JoinAsClient, ClientSession) and Await each operation within
// the command's Budget.
//
// Ownership: the session owns all its parts and destroys the runtime (and
// with it the node) first.
// Not thread-safe; use from the thread that created it.
#ifndef KAD_CLI_SESSION_H_
#define KAD_CLI_SESSION_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dht/kademlia_parameters.h"
#include "dht/node.h"
#include "net/endpoint.h"
#include "net/udp_transport.h"
#include "net/uv_clock.h"
#include "net/uv_loop.h"
#include "runtime/data_dir.h"
#include "runtime/node_runtime.h"

namespace kad::cli {

// A one-shot command's time budget: `--timeout` bounds the whole command.
struct Budget {
  absl::Time deadline;
  absl::Duration total;

  static Budget Starting(absl::Duration total) {
    return Budget{absl::Now() + total, total};
  }
  absl::Duration remaining() const {
    return std::max(deadline - absl::Now(), absl::ZeroDuration());
  }
};

struct SessionOptions {
  net::Endpoint bind;  // Port 0 picks a free port.
  runtime::NodeRuntimeOptions runtime;
  std::unique_ptr<runtime::DataDir> data_dir;  // Null: in-memory stores.
};

class Session {
 public:
  // Binds the socket and creates the node's runtime, which starts the
  // node. Errors: Unavailable if the loop cannot be created or the
  // address cannot be bound; the runtime's (NodeRuntime::Create).
  static absl::StatusOr<std::unique_ptr<Session>> Create(
      SessionOptions options);

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  dht::Node& node() { return runtime_->node(); }
  runtime::NodeRuntime& runtime() { return *runtime_; }
  net::UvLoop& loop() { return *loop_; }
  net::Clock& clock() { return *clock_; }

  // Calls `start` with a callback, which `start` hands to one Node method,
  // then runs the loop until the callback fires. Returns what the node
  // reported, or DeadlineExceeded if `budget` runs out first.
  // After a deadline the session is spent and later calls fail at once:
  // the abandoned callback refers to this call's frame, so the loop must
  // not run again while the node lives.
  template <typename T>
  absl::StatusOr<T> Await(
      const Budget& budget,
      absl::FunctionRef<void(dht::Node::Callback<T>)> start) {
    if (spent_) return TimedOut(budget);
    std::optional<absl::StatusOr<T>> result;
    start([&result](absl::StatusOr<T> r) { result = std::move(r); });
    if (!loop_->RunUntil([&result] { return result.has_value(); },
                         budget.remaining())) {
      spent_ = true;
      return TimedOut(budget);
    }
    return *std::move(result);
  }

 private:
  Session() = default;

  static absl::Status TimedOut(const Budget& budget);

  // Destroyed in reverse order: the runtime first, the loop last.
  std::unique_ptr<net::UvLoop> loop_;
  std::unique_ptr<net::UvClock> clock_;
  std::unique_ptr<net::UdpTransport> transport_;
  std::unique_ptr<runtime::NodeRuntime> runtime_;
  bool spent_ = false;
};

// Creates a read-only session on the wildcard address of `family`
// (0.0.0.0:0, or [::]:0 which reaches IPv4 peers too), whose gets and puts
// run `disjoint_paths` disjoint lookups.
absl::StatusOr<std::unique_ptr<Session>> ClientSession(
    net::Family family, int disjoint_paths = dht::kDefaultDisjointPaths);

// Joins the overlay for a one-shot command: resolves `bootstrap` (HOST:PORT
// entries), creates a read-only session that can reach them and bootstraps
// through them within `budget`. Errors: InvalidArgument for a bad address;
// Unavailable if no entry is given or no seed answers; DeadlineExceeded.
absl::StatusOr<std::unique_ptr<Session>> JoinAsClient(
    const std::vector<std::string>& bootstrap, const Budget& budget,
    int disjoint_paths = dht::kDefaultDisjointPaths);

}  // namespace kad::cli

#endif  // KAD_CLI_SESSION_H_

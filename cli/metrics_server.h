// MetricsServer: `kad node --metrics HOST:PORT` — serves GET /metrics in
// the Prometheus text exposition format (runtime/prometheus_metrics.h)
// over HTTP (Debian's cpp-httplib).
//
// Threading: the HTTP server runs on threads of its own (one listener, a
// pool of kWorkers), never on the node's loop, and never touches the node.
// The loop thread hands it a snapshot with Publish() (kad node does so
// every kMetricsRefresh from a loop timer); the workers format the latest
// snapshot under a mutex. A scrape therefore never blocks the loop and
// sees numbers at most kMetricsRefresh old.
//
// Requests: GET (or HEAD) /metrics answers 200 with the exposition, or
// 503 before the first snapshot; any other path is 404, another method
// 405 (a POST or PUT without a body length 400), and a request the HTTP
// parser rejects 400. Slow or idle clients are
// dropped after kIoTimeout; request bodies over 1 KB are refused.
//
// Ownership: the destructor stops the server and joins its threads.
#ifndef KAD_CLI_METRICS_SERVER_H_
#define KAD_CLI_METRICS_SERVER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/endpoint.h"
#include "runtime/prometheus_metrics.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace kad::cli {

inline constexpr absl::Duration kMetricsRefresh = absl::Seconds(1);

// Parses --metrics: HOST:PORT, or a bare PORT meaning 127.0.0.1:PORT (a
// node's metrics are not for the whole network unless asked). Port 0 picks
// a free port. InvalidArgument, naming the flag, for anything else.
absl::StatusOr<net::Endpoint> ParseMetricsAddress(const std::string& text);

class MetricsServer {
 public:
  static constexpr int kWorkers = 2;
  static constexpr absl::Duration kIoTimeout = absl::Seconds(5);

  // Binds `bind` and starts serving. Unavailable if it cannot bind (a
  // port in use, even by another kad node, is refused).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const net::Endpoint& bind);

  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Makes `snapshot` what GET /metrics serves. Any thread (the loop's).
  void Publish(runtime::MetricsSnapshot snapshot);

  // The bound address (the chosen port if 0 was asked).
  const net::Endpoint& endpoint() const { return endpoint_; }

 private:
  explicit MetricsServer(net::Endpoint endpoint);

  // Returns the latest snapshot formatted, or nullopt before the first.
  std::optional<std::string> Exposition() const;

  net::Endpoint endpoint_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  std::atomic<bool> listener_done_ = false;
  mutable std::mutex mutex_;
  std::optional<runtime::MetricsSnapshot> snapshot_;  // Guarded by mutex_.
};

}  // namespace kad::cli

#endif  // KAD_CLI_METRICS_SERVER_H_

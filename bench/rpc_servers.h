// The servers `kad bench rpc` loads, each on its own thread (optionally
// pinned to one CPU), each on one UDP socket bound to 127.0.0.1:0:
//
//   kRawEcho    the machine's limit: a C loop of recvmmsg and sendmmsg
//               that sends every datagram back as it came, no libuv.
//   kLibuvEcho  a bare libuv echo: uv_udp with recvmmsg on
//               (UV_UDP_RECVMMSG, receive_batch datagrams per call, as
//               net::UdpTransport reads), each datagram sent back with
//               uv_udp_try_send from the receive callback.
//   kNode       a dht::Node over net::UdpTransport and net::UvClock with an
//               in-memory store, as `kad node` runs one, holding
//               `contacts` made-up contacts (so a find_node reply carries
//               k of them) and, if given, one record.
//
// Start() returns once the server is ready; Stop() ends its thread and
// returns what it counted. Nothing is exchanged between the threads while
// the server runs.
//
// Not thread-safe: call Start() and Stop() from one thread.
#ifndef KAD_BENCH_RPC_SERVERS_H_
#define KAD_BENCH_RPC_SERVERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "dht/node_options.h"
#include "dht/request_gate.h"
#include "net/endpoint.h"
#include "storage/record.h"

namespace kad::bench {

enum class ServerKind { kRawEcho, kLibuvEcho, kNode };

struct ServerSpec {
  ServerKind kind = ServerKind::kNode;
  int cpu = -1;                  // Pinned there if >= 0.
  size_t receive_batch = 16;     // Datagrams per recvmmsg (1 to 20 for uv).
  dht::NodeOptions node;         // kNode: admission and reply budget etc.
  size_t contacts = 200;         // kNode: made-up contacts adopted.
  std::optional<storage::Record> record;  // kNode: held from the start.
};

// What a server counted while it ran.
struct ServerCounts {
  uint64_t datagrams_received = 0;
  uint64_t datagrams_sent = 0;
  uint64_t send_errors = 0;
  // kLibuvEcho: whether libuv really reads with recvmmsg.
  bool recvmmsg = false;
  // kNode: the request gate's counters (zeros with the gate off).
  std::optional<dht::RequestGateStats> gate;
};

class BenchServer {
 public:
  static absl::StatusOr<std::unique_ptr<BenchServer>> Start(ServerSpec spec);
  ~BenchServer();  // Stops the server if Stop() was not called.
  BenchServer(const BenchServer&) = delete;
  BenchServer& operator=(const BenchServer&) = delete;

  net::Endpoint endpoint() const { return endpoint_; }
  // Returns the CPU time the server's thread has used so far, in
  // nanoseconds. May be called from any thread while the server runs.
  int64_t CpuNanos();
  // Ends the server's thread and returns its counts. Call once.
  ServerCounts Stop();

  // The server thread's side of the handshake; public for the thread
  // functions in rpc_servers.cc, not for callers.
  struct Shared {
    std::atomic<bool> stop{false};
    // Set by uv-based servers before they report ready: wakes their loop.
    std::atomic<void*> wake{nullptr};
    std::promise<absl::StatusOr<net::Endpoint>> ready;
    ServerCounts counts;  // Written by the thread before it ends.
  };

 private:
  BenchServer() = default;

  Shared shared_;
  std::thread thread_;
  net::Endpoint endpoint_;
  bool stopped_ = false;
};

}  // namespace kad::bench

#endif  // KAD_BENCH_RPC_SERVERS_H_

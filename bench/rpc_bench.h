// RpcBench: one node's request throughput over real UDP on 127.0.0.1 —
// `kad bench rpc`.
//
// A run is `repeat` rounds; each round measures, one after the other,
// every target on every request kind it applies to, each with a fresh
// server on its own thread (pinned to server_cpu) loaded by RpcLoad
// (bench/rpc_load.h) from another thread (pinned to client_cpu):
//   raw_echo, libuv_echo  the baselines (bench/rpc_servers.h), with pings;
//   node                  a dht::Node, once per gate setting:
//     off      admission control and reply budget off (NodeOptions
//              admission and reply_budget unset): the node before the gate.
//     exempt   kad node's defaults; the client, on loopback, is exempt
//              from every limit (what a local overlay sees), so this costs
//              the gate's loopback check.
//     raised   the defaults with loopback counted like any address and
//              every limit raised to 1e9/s: the full per-request work of
//              the gate (table lookups, token buckets, reply budget)
//              without throttling — the "admission control on" figure.
//     default  the defaults with loopback counted: the client is one
//              flooding stranger, answered at most its limit and banned.
// Requests are anonymous (no sender id, as a read-only client sends), so
// the node neither adds the client to its table nor probes it.
// Rounds interleave the targets, so a load that changes on a busy
// machine shifts them all alike; the report takes medians over rounds.
//
// Not thread-safe; blocks for about repeat * phases * (warmup + duration).
#ifndef KAD_BENCH_RPC_BENCH_H_
#define KAD_BENCH_RPC_BENCH_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/rpc_load.h"
#include "bench/rpc_servers.h"

namespace kad::bench {

enum class RpcRequest { kPing, kFindNode, kFindValueAbsent, kFindValuePresent };
enum class RpcGate { kOff, kExempt, kRaised, kDefault };

const char* RpcRequestName(RpcRequest request);
const char* RpcGateName(RpcGate gate);
absl::StatusOr<RpcRequest> ParseRpcRequest(std::string_view name);
absl::StatusOr<RpcGate> ParseRpcGate(std::string_view name);

struct RpcBenchOptions {
  std::vector<RpcRequest> requests = {
      RpcRequest::kPing, RpcRequest::kFindNode, RpcRequest::kFindValueAbsent,
      RpcRequest::kFindValuePresent};
  std::vector<RpcGate> gates = {RpcGate::kOff, RpcGate::kExempt,
                                RpcGate::kRaised, RpcGate::kDefault};
  bool raw_echo = true;
  bool libuv_echo = true;
  LoadOptions load;  // Window, batch, warm-up, duration, timeout.
  int server_cpu = -1;  // -1: not pinned.
  int client_cpu = -1;
  size_t receive_batch = 16;  // recvmmsg batch of every server (1 to 20).
  int repeat = 1;             // Rounds (at least 1).
  size_t value_bytes = 100;   // find_value_present's record value.
  size_t contacts = 200;      // Made-up contacts the node holds.
};

// One target, one request kind, one round.
struct RpcPhase {
  ServerKind server = ServerKind::kNode;
  RpcGate gate = RpcGate::kOff;  // kNode only.
  RpcRequest request = RpcRequest::kPing;
  int round = 0;
  size_t request_bytes = 0;
  LoadResult load;
  ServerCounts counts;
  size_t reply_contacts = 0;  // In the first reply (node targets).
  bool reply_has_record = false;
};

struct RpcBenchReport {
  RpcBenchOptions options;
  std::vector<RpcPhase> phases;  // In the order run.
  bool interrupted = false;
};

absl::Status ValidateRpcBench(const RpcBenchOptions& options);

// Runs the benchmark; returns early, marked interrupted, once `stop` holds
// (checked between phases).
absl::StatusOr<RpcBenchReport> RunRpcBench(const RpcBenchOptions& options,
                                           const std::atomic<bool>* stop);

}  // namespace kad::bench

#endif  // KAD_BENCH_RPC_BENCH_H_

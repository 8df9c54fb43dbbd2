// RpcLoad: the client side of `kad bench rpc` — one UDP socket that keeps
// a bounded window of requests outstanding against one server and counts
// the replies, sending and receiving in batches (sendmmsg, recvmmsg).
//
// Every request is one template datagram whose transaction id is patched
// in place: the template must hold the id as a MessagePack uint32
// (0xce and four big-endian bytes), which MakeRequestTemplate ensures by
// encoding it with an id of 2^31 or more. A reply is matched by the same
// field at the same offset (kad's header is [version, type, transaction
// id, ...] in a fixarray, so the id sits at byte 3 of every message) and
// by its type byte; an echo server's replies are the requests themselves.
// Each of the window's slots has its own id: the slot number in the low
// bits and a generation above it, so a reply to a request given up on
// (after `timeout`) is told apart from the slot's next request.
//
// The first `warmup` is not counted; counting covers `duration` after it.
//
// Not thread-safe; RunLoad blocks the calling thread (pinned to `cpu` if
// given) for warmup + duration.
#ifndef KAD_BENCH_RPC_LOAD_H_
#define KAD_BENCH_RPC_LOAD_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/summary.h"
#include "dht/message.h"
#include "net/endpoint.h"

namespace kad::bench {

// One request datagram and where its transaction id sits.
struct RequestTemplate {
  std::vector<uint8_t> bytes;
  size_t id_offset = 0;  // The 0xce marker; four id bytes follow.
  uint8_t reply_type = 0;  // Expected type byte (byte 2) of a reply.
};

// Encodes `body` as an anonymous request (no sender id, as a read-only
// client sends) whose transaction id can be patched. `echo`: the reply is
// the request itself.
absl::StatusOr<RequestTemplate> MakeRequestTemplate(dht::Body body, bool echo);

struct LoadOptions {
  size_t window = 256;  // Requests outstanding at most (1 to 4096).
  size_t batch = 32;    // Datagrams per sendmmsg / recvmmsg (1 to 1024).
  absl::Duration warmup = absl::Milliseconds(200);
  absl::Duration duration = absl::Seconds(1);
  // A request unanswered this long is given up; its slot is reused.
  absl::Duration timeout = absl::Milliseconds(100);
  int cpu = -1;  // Pinned there if >= 0.
};

// What one run counted during `duration` (after the warm-up).
struct LoadResult {
  double seconds = 0;       // Measured: duration as it really passed.
  // CPU time the server's thread and the client's thread used meanwhile
  // (0 for the server if no clock was given).
  double server_cpu_seconds = 0;
  double client_cpu_seconds = 0;
  uint64_t sent = 0;        // Requests sent.
  uint64_t replies = 0;     // Replies matched to an outstanding request.
  uint64_t timeouts = 0;    // Requests given up after `timeout`.
  uint64_t stale = 0;       // Replies to requests already given up.
  uint64_t mismatched = 0;  // Datagrams of the wrong type or id form.
  uint64_t send_errors = 0;
  uint64_t reply_bytes = 0;   // Payload bytes of the matched replies.
  Summary latency_us;         // Send to receive, per matched reply.
  std::vector<uint8_t> first_reply;  // For the caller to check.

  double replies_per_second() const {
    return seconds > 0 ? static_cast<double>(replies) / seconds : 0;
  }
  // Replies per second of server CPU time: the rate one core would
  // sustain, however much of its core a busy machine left the server.
  double replies_per_cpu_second() const {
    return server_cpu_seconds > 0
               ? static_cast<double>(replies) / server_cpu_seconds
               : 0;
  }
  double sent_per_second() const {
    return seconds > 0 ? static_cast<double>(sent) / seconds : 0;
  }
};

// Loads `server` with `request` for warmup + duration from a socket on
// 127.0.0.1. `server_cpu_ns`, if given, returns the CPU time the server's
// thread has used so far; it is read when counting starts and ends.
// Returns Unavailable if the socket cannot be set up, InvalidArgument for
// options out of range.
absl::StatusOr<LoadResult> RunLoad(
    const net::Endpoint& server, const RequestTemplate& request,
    const LoadOptions& options,
    const std::function<int64_t()>& server_cpu_ns = nullptr);

}  // namespace kad::bench

#endif  // KAD_BENCH_RPC_LOAD_H_

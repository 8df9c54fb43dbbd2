// RpcClient: outgoing requests — transaction ids, adaptive timeouts, and
// matching of responses to the request that caused them.
//
// A response counts only if its transaction id is pending, it comes from
// the endpoint the request went to, it has the response type the request
// calls for (or Error), and, when the request named an expected node id,
// it carries that sender id. Anything else is counted and dropped.
//
// Timeouts: each request gets the peer's RTO (RttEstimator; peers without
// a sample get the RTO of all samples so far). When it passes, the request
// is sent again — same transaction id, re-encoded — and keeps waiting;
// after `give_up_after_timeouts` timeouts it fails with DeadlineExceeded.
// An answer to any copy before that completes it. A lost datagram thus
// costs one timeout, not a failure.
//
// Slow mark: a request with an `on_slow` handler (an interactive lookup's,
// dht/lookup_driver.h) is marked slow earlier than its RTO, at
// `slow_after_rtts` times the typical RTT (the smoothed RTT of all peers,
// or the peer's own if shorter; never below RttBounds::min, so a fast
// link sees no spurious copies); then `on_slow` runs and the request is
// sent once more (not counted as a timeout). The RTO of all peers is
// several median RTTs with long-tailed RTTs, so a lookup told only at the
// RTO waited that long for every straggler and every lost datagram; at
// the mark it asks someone else and the extra copy recovers a loss one RTT
// later (docs/BENCH.md). Without any sample yet there is no mark
// (`on_slow` runs at the first timeout).
//
// RTT samples count from the first copy. When that copy was lost the
// sample overstates the RTT by the timeouts passed, which raises that
// peer's RTO — the safe direction; Karn's rule (no sample from a
// retransmitted request) would instead leave a slow peer, whose first copy
// is merely late, without a sample and timing out for ever. Per-peer
// estimators are kept only for the `rtt_peers` most recently measured peers
// (RecentRtts), so the client's memory does not grow with every peer it
// ever met.
//
// Handlers: `on_done` runs exactly once (the response, or an error);
// `on_slow` at most once, before it. Neither runs inside Send(). The
// optional `on_traffic` only counts bytes: it is called inside Send() with
// the request datagram's size once it is sent, and with the response
// datagram's size just before `on_done`; it must not call the client.
// Pending handlers are destroyed uncalled when the client is destroyed.
//
// Ownership: transport, clock, stats and the generator are borrowed and
// must outlive the client. Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_RPC_CLIENT_H_
#define KAD_DHT_RPC_CLIENT_H_

#include <memory>
#include <optional>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dht/message.h"
#include "dht/node_stats.h"
#include "dht/recent_rtts.h"
#include "dht/rtt_estimator.h"
#include "dht/timer_set.h"
#include "net/clock.h"
#include "net/endpoint.h"
#include "net/transport.h"

namespace kad::dht {

struct RpcOptions {
  RttBounds timeouts;
  int give_up_after_timeouts = 3;
  // Our id as the sender of requests; nullopt sends as a read-only client.
  std::optional<NodeId> sender;
  // Peers whose own RTT is remembered (most recently measured first); the
  // rest get the all-peers timeout. 20 bytes each, allocated as used. 32
  // and 64 gave the same lookups (docs/BENCH.md, "Joins and memory").
  size_t rtt_peers = 32;
  // The slow mark of requests with `on_slow`, in typical RTTs (see
  // above); 0: `on_slow` at the first timeout.
  double slow_after_rtts = 1.3;  // docs/BENCH.md, "Lookup latency".
};

struct RpcHandlers {
  absl::AnyInvocable<void()> on_slow;  // Optional; see "Slow mark".
  absl::AnyInvocable<void(absl::StatusOr<Message>)> on_done;
  absl::AnyInvocable<void(size_t bytes)> on_traffic = nullptr;  // Optional.
};

class RpcClient {
 public:
  RpcClient(RpcOptions options, net::Transport& transport, net::Clock& clock,
            NodeStats& stats, absl::BitGenRef gen);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Sends a request. `expected`, if set, is the node id that must answer.
  void Send(const net::Endpoint& to, std::optional<NodeId> expected,
            Body request, RpcHandlers handlers);

  // Offers an incoming response, decoded from a datagram of `bytes` bytes.
  // Returns true if it completed a request.
  bool OnResponse(const net::Endpoint& from, Message response,
                  size_t bytes = 0);

  // Returns the smoothed RTT to `endpoint`, or ZeroDuration if unmeasured
  // (or not among the rtt_peers most recently measured).
  absl::Duration SmoothedRtt(const net::Endpoint& endpoint) const;
  size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    net::Endpoint to;
    std::optional<NodeId> expected;
    MessageType response_type;  // Besides Error, the answer it calls for.
    std::unique_ptr<Message> request;  // Kept to send again.
    absl::Time sent;  // The first copy.
    // The clock's own timer, not a TimerSet's: its callback captures only
    // (this, id), so it is stored inline, and a request costs no timer
    // map entry (~RpcClient cancels what is pending).
    net::TimerId timer = 0;
    int timeouts = 0;
    RpcHandlers handlers;
    absl::Duration slow_rest;  // From the slow mark to the RTO.
  };

  TransactionId NewTransactionId();
  absl::Duration TimeoutFor(const net::Endpoint& endpoint) const;
  void ArmTimer(TransactionId id, Pending& pending);
  void OnTimer(TransactionId id);
  void OnSlowTimer(TransactionId id);
  void Resend(Pending& pending);
  absl::Duration SlowMark(const net::Endpoint& endpoint) const;
  void FailSoon(RpcHandlers handlers, absl::Status status);

  RpcOptions options_;
  net::Transport& transport_;
  net::Clock& clock_;
  NodeStats& stats_;
  absl::BitGenRef gen_;
  absl::flat_hash_map<TransactionId, Pending> pending_;
  RecentRtts rtt_;
  RttEstimator all_peers_rtt_;
  TimerSet timers_;  // FailSoon's. Last: cancelled before what they use goes.
};

// Encodes and sends one message, counting it in `stats`, and sets
// `*bytes_sent` (if given) to the datagram's size. Returns the encoding or
// transport error.
// Sends an encoded message of `type`, counting it in `stats`. Returns the
// transport's error.
absl::Status SendEncoded(net::Transport& transport, NodeStats& stats,
                         const net::Endpoint& to, MessageType type,
                         std::span<const uint8_t> bytes);

absl::Status SendMessage(net::Transport& transport, NodeStats& stats,
                         const net::Endpoint& to, const Message& message,
                         absl::Time now, size_t* bytes_sent = nullptr);

}  // namespace kad::dht

#endif  // KAD_DHT_RPC_CLIENT_H_

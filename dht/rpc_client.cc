#include "dht/rpc_client.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dht/release_if_sparse.h"
#include "dht/wire_codec.h"

namespace kad::dht {
namespace {

// The response type `request` calls for; Error for what is no request
// (only an error could answer it).
MessageType ResponseTypeFor(MessageType request) {
  switch (request) {
    case MessageType::kPing: return MessageType::kPong;
    case MessageType::kFindNode: return MessageType::kNodes;
    case MessageType::kFindValue: return MessageType::kValue;
    case MessageType::kStore: return MessageType::kStored;
    case MessageType::kStats: return MessageType::kStatsReply;
    case MessageType::kOffer: return MessageType::kOfferReply;
    default: return MessageType::kError;
  }
}

}  // namespace

absl::Status SendMessage(net::Transport& transport, NodeStats& stats,
                         const net::Endpoint& to, const Message& message,
                         absl::Time now, size_t* bytes_sent) {
  auto bytes = EncodeMessage(message, now);
  if (!bytes.ok()) return bytes.status();
  if (absl::Status sent = SendEncoded(transport, stats, to, message.type(),
                                      *bytes);
      !sent.ok()) {
    return sent;
  }
  if (bytes_sent != nullptr) *bytes_sent = bytes->size();
  return absl::OkStatus();
}

absl::Status SendEncoded(net::Transport& transport, NodeStats& stats,
                         const net::Endpoint& to, MessageType type,
                         std::span<const uint8_t> bytes) {
  absl::Status sent = transport.Send(to, bytes);
  if (!sent.ok()) {
    ++stats.send_errors;
    return sent;
  }
  ++stats.datagrams_out;
  stats.bytes_out += bytes.size();
  ++stats.messages_out[static_cast<size_t>(type)];
  return absl::OkStatus();
}

RpcClient::RpcClient(RpcOptions options, net::Transport& transport,
                     net::Clock& clock, NodeStats& stats, absl::BitGenRef gen)
    : options_(std::move(options)),
      transport_(transport),
      clock_(clock),
      stats_(stats),
      gen_(gen),
      rtt_(options_.rtt_peers),
      timers_(clock) {}

RpcClient::~RpcClient() {
  for (const auto& [id, pending] : pending_) clock_.Cancel(pending.timer);
}

TransactionId RpcClient::NewTransactionId() {
  TransactionId id;
  do {
    id = static_cast<TransactionId>(gen_());
  } while (pending_.contains(id));
  return id;
}

absl::Duration RpcClient::TimeoutFor(const net::Endpoint& endpoint) const {
  const RttEstimator* peer = rtt_.Find(endpoint);
  return (peer ? *peer : all_peers_rtt_).Timeout(options_.timeouts);
}

absl::Duration RpcClient::SmoothedRtt(const net::Endpoint& endpoint) const {
  const RttEstimator* peer = rtt_.Find(endpoint);
  return peer ? peer->smoothed() : absl::ZeroDuration();
}

void RpcClient::FailSoon(RpcHandlers handlers, absl::Status status) {
  timers_.Schedule(absl::ZeroDuration(),
                  [done = std::move(handlers.on_done), status]() mutable {
                    done(status);
                  });
}

void RpcClient::Send(const net::Endpoint& to, std::optional<NodeId> expected,
                     Body request, RpcHandlers handlers) {
  const absl::Time now = clock_.Now();
  Message message{NewTransactionId(), options_.sender, std::move(request)};
  size_t bytes = 0;
  absl::Status sent = SendMessage(transport_, stats_, to, message, now, &bytes);
  if (!sent.ok()) {
    FailSoon(std::move(handlers), sent);
    return;
  }
  if (handlers.on_traffic) handlers.on_traffic(bytes);
  const TransactionId id = message.transaction_id;
  Pending& pending = pending_[id];
  pending = Pending{to,
                    expected,
                    ResponseTypeFor(message.type()),
                    std::make_unique<Message>(std::move(message)),
                    now,
                    0,
                    0,
                    std::move(handlers),
                    absl::ZeroDuration()};
  ArmTimer(id, pending);
}

absl::Duration RpcClient::SlowMark(const net::Endpoint& endpoint) const {
  if (options_.slow_after_rtts <= 0 || !all_peers_rtt_.has_sample()) {
    return absl::InfiniteDuration();
  }
  // The typical RTT, or the peer's own if it is shorter: a peer known to
  // be slow is exactly the straggler a lookup should stop waiting for.
  absl::Duration typical = all_peers_rtt_.smoothed();
  if (const RttEstimator* peer = rtt_.Find(endpoint); peer != nullptr) {
    typical = std::min(typical, peer->smoothed());
  }
  return std::max(typical * options_.slow_after_rtts, options_.timeouts.min);
}

void RpcClient::ArmTimer(TransactionId id, Pending& pending) {
  const absl::Duration timeout = TimeoutFor(pending.to);
  if (pending.timeouts == 0 && pending.handlers.on_slow) {
    const absl::Duration slow = SlowMark(pending.to);
    if (slow < timeout) {
      pending.slow_rest = timeout - slow;
      pending.timer = clock_.Schedule(slow, [this, id] { OnSlowTimer(id); });
      return;
    }
  }
  pending.timer = clock_.Schedule(timeout, [this, id] { OnTimer(id); });
}

void RpcClient::Resend(Pending& pending) {
  size_t bytes = 0;
  // A failed send is not final: the next timeout tries again, or gives up.
  if (SendMessage(transport_, stats_, pending.to, *pending.request,
                  clock_.Now(), &bytes)
          .ok()) {
    ++stats_.rpc_retransmits;
    if (pending.handlers.on_traffic) pending.handlers.on_traffic(bytes);
  }
}

void RpcClient::OnSlowTimer(TransactionId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& pending = it->second;
  pending.timer = clock_.Schedule(pending.slow_rest,
                                  [this, id] { OnTimer(id); });
  Resend(pending);
  auto slow = std::move(pending.handlers.on_slow);
  pending.handlers.on_slow = nullptr;
  slow();  // May send more requests; `pending` may move: not used after.
}

void RpcClient::OnTimer(TransactionId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& pending = it->second;
  ++pending.timeouts;
  if (pending.timeouts >= options_.give_up_after_timeouts) {
    ++stats_.rpc_failures;
    rtt_.OnTimeout(pending.to);
    absl::Status timed_out = absl::DeadlineExceededError(
        absl::StrCat(MessageTypeName(pending.request->type()), " to ",
                     pending.to.ToString(), " timed out"));
    auto done = std::move(pending.handlers.on_done);
    pending_.erase(it);
    ReleaseIfSparse(pending_);
    done(std::move(timed_out));
    return;
  }
  Resend(pending);
  ArmTimer(id, pending);
  if (pending.timeouts == 1) {
    ++stats_.rpc_timeouts;
    if (pending.handlers.on_slow) {
      auto slow = std::move(pending.handlers.on_slow);
      slow();  // May send more requests; `pending` may move: not used after.
    }
  }
}

bool RpcClient::OnResponse(const net::Endpoint& from, Message response,
                           size_t bytes) {
  auto it = pending_.find(response.transaction_id);
  if (it == pending_.end() || it->second.to != from ||
      (it->second.expected && response.sender != it->second.expected) ||
      (response.type() != MessageType::kError &&
       response.type() != it->second.response_type)) {
    ++stats_.unmatched_responses;
    return false;
  }
  const absl::Time now = clock_.Now();
  // From the first copy, whichever copy this answers (see the header).
  rtt_.AddSample(from, now - it->second.sent);
  all_peers_rtt_.AddSample(now - it->second.sent);
  clock_.Cancel(it->second.timer);
  if (it->second.handlers.on_traffic) it->second.handlers.on_traffic(bytes);
  auto done = std::move(it->second.handlers.on_done);
  pending_.erase(it);
  ReleaseIfSparse(pending_);
  done(std::move(response));
  return true;
}

}  // namespace kad::dht

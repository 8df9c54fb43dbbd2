#include "dht/rpc_client.h"

#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dht/message.h"
#include "dht/node_id.h"
#include "dht/node_stats.h"
#include "dht/wire_codec.h"
#include "gtest/gtest.h"
#include "net/endpoint.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"
#include "tests/testing/sim_builders.h"

namespace kad::dht {
namespace {

using kad::testing::ConstantRtt;

constexpr absl::Duration kLatency = absl::Milliseconds(10);  // One way.

NodeId IdFromHex(const char* hex) { return NodeId::FromHex(hex).value(); }

const NodeId kClientId = IdFromHex("c11e000000000000000000000000000000000001");
const NodeId kPeerId = IdFromHex("9ee1000000000000000000000000000000000002");
const NodeId kOtherId = IdFromHex("07e1000000000000000000000000000000000003");

size_t Index(MessageType type) { return static_cast<size_t>(type); }

// What happened to one request, as seen through its handlers.
struct Outcome {
  int slow_calls = 0;
  int done_calls = 0;
  std::optional<absl::Time> slow_at;
  std::optional<absl::Time> done_at;
  absl::StatusOr<Message> result = absl::UnknownError("on_done not called");
};

// A request as the peer received it.
struct Received {
  net::Endpoint from;
  Message message;
};

class RpcClientTest : public ::testing::Test {
 protected:
  RpcClientTest()
      : network_(clock_, ConstantRtt(2 * kLatency)),
        client_transport_(network_.NewTransport()),
        peer_transport_(network_.NewTransport()) {
    client_transport_->SetReceiveHandler(
        [this](const net::Endpoint& from, std::span<const uint8_t> bytes) {
          auto message = DecodeMessage(bytes, clock_.Now());
          ASSERT_TRUE(message.ok()) << message.status();
          ++client_datagrams_;
          if (client_ != nullptr) {
            client_->OnResponse(from, *std::move(message), bytes.size());
          }
        });
    peer_transport_->SetReceiveHandler(
        [this](const net::Endpoint& from, std::span<const uint8_t> bytes) {
          auto message = DecodeMessage(bytes, clock_.Now());
          ASSERT_TRUE(message.ok()) << message.status();
          requests_.push_back({from, *std::move(message)});
        });
    MakeClient(DefaultOptions());
  }

  static RpcOptions DefaultOptions() {
    RpcOptions options;
    options.sender = kClientId;
    return options;
  }

  void MakeClient(RpcOptions options) {
    client_.reset();
    client_ = std::make_unique<RpcClient>(std::move(options),
                                          *client_transport_, clock_, stats_,
                                          gen_);
  }

  net::Endpoint client_endpoint() const {
    return client_transport_->local_endpoint();
  }
  net::Endpoint peer_endpoint() const {
    return peer_transport_->local_endpoint();
  }

  // Handlers that record into `outcome`, stamped with virtual time.
  RpcHandlers Track(Outcome& outcome) {
    RpcHandlers handlers;
    handlers.on_slow = [this, &outcome] {
      ++outcome.slow_calls;
      outcome.slow_at = clock_.Now();
      EXPECT_EQ(outcome.done_calls, 0) << "on_slow after on_done";
    };
    handlers.on_done = [this, &outcome](absl::StatusOr<Message> result) {
      ++outcome.done_calls;
      outcome.done_at = clock_.Now();
      outcome.result = std::move(result);
    };
    return handlers;
  }

  void Ping(std::optional<NodeId> expected, Outcome& outcome) {
    client_->Send(peer_endpoint(), expected, dht::Ping{}, Track(outcome));
  }

  // Lets one network hop happen.
  void Hop() { clock_.RunFor(kLatency); }

  // The peer answers `request` through its own transport.
  void Reply(const Received& request, Body body,
             std::optional<NodeId> sender = kPeerId) {
    ReplyWithId(request, request.message.transaction_id, std::move(body),
                sender);
  }
  void ReplyWithId(const Received& request, TransactionId id, Body body,
                   std::optional<NodeId> sender = kPeerId) {
    Message message{id, sender, std::move(body)};
    auto bytes = EncodeMessage(message, clock_.Now());
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_TRUE(peer_transport_->Send(request.from, *bytes).ok());
  }

  // Sends `message` to the client as if it came from `from`.
  void Forge(const net::Endpoint& from, const Message& message) {
    auto bytes = EncodeMessage(message, clock_.Now());
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_TRUE(network_.Inject(from, client_endpoint(), *bytes).ok());
  }

  Pong PongFor(const Received& request) { return Pong{request.from}; }

  net::SimClock clock_;
  net::SimNetwork network_;
  std::unique_ptr<net::SimTransport> client_transport_;
  std::unique_ptr<net::SimTransport> peer_transport_;
  NodeStats stats_;
  std::mt19937_64 gen_{20240601};
  std::vector<Received> requests_;
  int client_datagrams_ = 0;
  std::unique_ptr<RpcClient> client_;  // Last: goes first.
};

TEST_F(RpcClientTest, DeliversTheMatchingResponse) {
  Outcome outcome;
  Ping(kPeerId, outcome);
  EXPECT_EQ(outcome.done_calls, 0) << "on_done ran inside Send";
  EXPECT_EQ(client_->pending(), 1u);
  EXPECT_EQ(stats_.datagrams_out, 1u);
  EXPECT_EQ(stats_.messages_out[Index(MessageType::kPing)], 1u);

  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  const Received& request = requests_[0];
  EXPECT_EQ(request.from, client_endpoint());
  EXPECT_EQ(request.message.type(), MessageType::kPing);
  EXPECT_EQ(request.message.sender, kClientId);

  Reply(request, PongFor(request));
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(outcome.slow_calls, 0);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->type(), MessageType::kPong);
  EXPECT_EQ(outcome.result->transaction_id, request.message.transaction_id);
  EXPECT_EQ(outcome.result->sender, kPeerId);
  EXPECT_EQ(std::get<Pong>(outcome.result->body).observed, client_endpoint());
  EXPECT_EQ(client_->pending(), 0u);
  EXPECT_EQ(stats_.unmatched_responses, 0u);
  EXPECT_EQ(client_->SmoothedRtt(peer_endpoint()), 2 * kLatency);

  // Nothing more happens: the timeout was cancelled.
  clock_.RunUntilIdle();
  EXPECT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(outcome.slow_calls, 0);
  EXPECT_EQ(stats_.rpc_timeouts, 0u);
}

TEST_F(RpcClientTest, SendsAsAReadOnlyClientWithoutASender) {
  RpcOptions options = DefaultOptions();
  options.sender = std::nullopt;
  MakeClient(options);
  Outcome outcome;
  Ping(std::nullopt, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_FALSE(requests_[0].message.sender.has_value());
}

TEST_F(RpcClientTest, SmoothedRttIsZeroForAnUnmeasuredPeer) {
  EXPECT_EQ(client_->SmoothedRtt(peer_endpoint()), absl::ZeroDuration());
}

TEST_F(RpcClientTest, IgnoresResponseFromAnotherEndpoint) {
  Outcome outcome;
  Ping(kPeerId, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  const Received request = requests_[0];
  Message forged{request.message.transaction_id, kPeerId, PongFor(request)};

  // Another host, and the peer's own address on another port.
  Forge(net::Endpoint::Ipv4({10, 9, 9, 9}, 4222), forged);
  Forge(peer_endpoint().WithPort(peer_endpoint().port() + 1), forged);
  Hop();
  EXPECT_EQ(client_datagrams_, 2);
  EXPECT_EQ(outcome.done_calls, 0);
  EXPECT_EQ(stats_.unmatched_responses, 2u);
  EXPECT_EQ(client_->pending(), 1u);

  // The real answer still completes it.
  Reply(request, PongFor(request));
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->type(), MessageType::kPong);
  EXPECT_EQ(stats_.unmatched_responses, 2u);
  EXPECT_EQ(client_->pending(), 0u);
}

TEST_F(RpcClientTest, ForgedResponseFromTheRightEndpointIsAccepted) {
  // The source endpoint is what the client checks, whoever sent the bytes.
  Outcome outcome;
  Ping(kPeerId, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  Forge(peer_endpoint(), Message{requests_[0].message.transaction_id, kPeerId,
                                 PongFor(requests_[0])});
  Hop();
  EXPECT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(stats_.unmatched_responses, 0u);
}

TEST_F(RpcClientTest, IgnoresResponseWithWrongTransactionId) {
  Outcome outcome;
  Ping(kPeerId, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  const Received request = requests_[0];
  ReplyWithId(request, request.message.transaction_id + 1, PongFor(request));
  ReplyWithId(request, request.message.transaction_id ^ 0x80000000u,
              PongFor(request));
  Hop();
  EXPECT_EQ(outcome.done_calls, 0);
  EXPECT_EQ(stats_.unmatched_responses, 2u);
  EXPECT_EQ(client_->pending(), 1u);

  Reply(request, PongFor(request));
  Hop();
  EXPECT_EQ(outcome.done_calls, 1);
  EXPECT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(client_->pending(), 0u);
}

TEST_F(RpcClientTest, IgnoresResponseOfTheWrongType) {
  Outcome outcome;
  Ping(kPeerId, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  const Received request = requests_[0];
  Reply(request, Nodes{{Contact{kOtherId, peer_endpoint()}}, "token"});
  Reply(request, Stored{});
  // A request is no answer either.
  Reply(request, dht::Ping{});
  Hop();
  EXPECT_EQ(outcome.done_calls, 0);
  EXPECT_EQ(stats_.unmatched_responses, 3u);
  EXPECT_EQ(client_->pending(), 1u);

  Reply(request, PongFor(request));
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->type(), MessageType::kPong);
}

TEST_F(RpcClientTest, MatchesEachRequestTypeToItsResponseType) {
  const storage::Record record{"key", "value", 1,
                               clock_.Now() + absl::Hours(1)};
  struct Case {
    Body request;
    Body wrong;
    Body right;
  };
  std::vector<Case> cases;
  cases.push_back({FindNode{kOtherId}, Stored{}, Nodes{{}, "t"}});
  cases.push_back({FindValue{"key"}, Nodes{{}, "t"}, Value{record, {}, "t"}});
  cases.push_back({Store{record, "t"}, Value{std::nullopt, {}, ""}, Stored{}});
  for (Case& c : cases) {
    const MessageType request_type = static_cast<MessageType>(c.request.index());
    SCOPED_TRACE(MessageTypeName(request_type));
    requests_.clear();
    const uint64_t unmatched = stats_.unmatched_responses;
    Outcome outcome;
    client_->Send(peer_endpoint(), kPeerId, c.request, Track(outcome));
    Hop();
    ASSERT_EQ(requests_.size(), 1u);
    EXPECT_EQ(requests_[0].message.type(), request_type);
    Reply(requests_[0], c.wrong);
    Hop();
    EXPECT_EQ(outcome.done_calls, 0);
    EXPECT_EQ(stats_.unmatched_responses, unmatched + 1);
    Reply(requests_[0], c.right);
    Hop();
    ASSERT_EQ(outcome.done_calls, 1);
    ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
    EXPECT_EQ(outcome.result->body.index(), c.right.index());
  }
}

TEST_F(RpcClientTest, IgnoresResponseFromUnexpectedNodeId) {
  Outcome outcome;
  Ping(kPeerId, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  const Received request = requests_[0];
  Reply(request, PongFor(request), kOtherId);
  Reply(request, PongFor(request), std::nullopt);  // Read-only sender.
  Hop();
  EXPECT_EQ(outcome.done_calls, 0);
  EXPECT_EQ(stats_.unmatched_responses, 2u);
  EXPECT_EQ(client_->pending(), 1u);

  Reply(request, PongFor(request), kPeerId);
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->sender, kPeerId);
}

TEST_F(RpcClientTest, AcceptsAnySenderWhenNoNodeIdIsExpected) {
  Outcome outcome;
  Ping(std::nullopt, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  Reply(requests_[0], PongFor(requests_[0]), kOtherId);
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->sender, kOtherId);
  EXPECT_EQ(stats_.unmatched_responses, 0u);
}

TEST_F(RpcClientTest, ErrorResponseCompletesTheRequest) {
  Outcome outcome;
  client_->Send(peer_endpoint(), kPeerId, FindNode{kOtherId}, Track(outcome));
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  Reply(requests_[0], Error{ErrorCode::kStoreFull, "quota exhausted"});
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  // The error travels as a message; the caller decides what it means.
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  ASSERT_EQ(outcome.result->type(), MessageType::kError);
  const auto& error = std::get<Error>(outcome.result->body);
  EXPECT_EQ(error.code, ErrorCode::kStoreFull);
  EXPECT_EQ(error.reason, "quota exhausted");
  EXPECT_EQ(client_->pending(), 0u);
  EXPECT_EQ(stats_.unmatched_responses, 0u);
}

TEST_F(RpcClientTest, OnTrafficCountsTheRequestThenTheResponseBytes) {
  std::vector<size_t> traffic;
  Outcome outcome;
  RpcHandlers handlers = Track(outcome);
  handlers.on_traffic = [&](size_t bytes) {
    EXPECT_EQ(outcome.done_calls, 0) << "on_traffic after on_done";
    traffic.push_back(bytes);
  };
  client_->Send(peer_endpoint(), kPeerId, FindNode{kOtherId},
                std::move(handlers));
  ASSERT_EQ(traffic.size(), 1u) << "the request is counted once it is sent";
  EXPECT_EQ(traffic[0], stats_.bytes_out);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  Nodes answer;
  answer.closest.push_back({kOtherId, client_endpoint().WithPort(9)});
  answer.token = "token";
  Message reply{requests_[0].message.transaction_id, kPeerId, answer};
  const size_t reply_bytes = EncodeMessage(reply, clock_.Now())->size();
  Reply(requests_[0], answer);
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  ASSERT_EQ(traffic.size(), 2u);
  EXPECT_EQ(traffic[1], reply_bytes);
}

TEST_F(RpcClientTest, DuplicateResponseIsCountedAsUnmatched) {
  Outcome outcome;
  Ping(kPeerId, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  Reply(requests_[0], PongFor(requests_[0]));
  Reply(requests_[0], PongFor(requests_[0]));
  Hop();
  EXPECT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(stats_.unmatched_responses, 1u);
}

TEST_F(RpcClientTest, MatchesConcurrentRequestsByTransactionId) {
  constexpr int kRequests = 20;
  std::vector<Outcome> outcomes(kRequests);
  for (Outcome& outcome : outcomes) Ping(kPeerId, outcome);
  EXPECT_EQ(client_->pending(), static_cast<size_t>(kRequests));
  Hop();
  ASSERT_EQ(requests_.size(), static_cast<size_t>(kRequests));
  for (int i = 0; i < kRequests; ++i) {
    for (int j = 0; j < i; ++j) {
      EXPECT_NE(requests_[i].message.transaction_id,
                requests_[j].message.transaction_id);
    }
  }
  // Answer in reverse order, tagging each answer with its request's index.
  for (int i = kRequests - 1; i >= 0; --i) {
    Reply(requests_[i],
          Pong{client_endpoint().WithPort(static_cast<uint16_t>(1000 + i))});
  }
  Hop();
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_EQ(outcomes[i].done_calls, 1) << i;
    ASSERT_TRUE(outcomes[i].result.ok()) << outcomes[i].result.status();
    EXPECT_EQ(std::get<Pong>(outcomes[i].result->body).observed.port(),
              1000 + i);
  }
  EXPECT_EQ(client_->pending(), 0u);
}

TEST_F(RpcClientTest, CallsOnSlowThenStillAcceptsALateAnswer) {
  const absl::Time sent = clock_.Now();
  Outcome outcome;
  Ping(kPeerId, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);

  // The initial timeout (1 s) passes unanswered.
  clock_.RunFor(absl::Seconds(1) - kLatency - absl::Milliseconds(1));
  EXPECT_EQ(outcome.slow_calls, 0);
  clock_.RunFor(absl::Milliseconds(1));
  ASSERT_EQ(outcome.slow_calls, 1);
  EXPECT_EQ(*outcome.slow_at, sent + absl::Seconds(1));
  EXPECT_EQ(outcome.done_calls, 0);
  EXPECT_EQ(stats_.rpc_timeouts, 1u);
  EXPECT_EQ(client_->pending(), 1u);

  clock_.RunFor(absl::Milliseconds(500));
  Reply(requests_[0], PongFor(requests_[0]));
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(*outcome.done_at, sent + absl::Milliseconds(1510));
  EXPECT_EQ(outcome.slow_calls, 1);
  EXPECT_EQ(stats_.rpc_failures, 0u);
  EXPECT_EQ(client_->pending(), 0u);
  // The late answer is still a sample.
  EXPECT_EQ(client_->SmoothedRtt(peer_endpoint()), absl::Milliseconds(1510));

  clock_.RunUntilIdle();
  EXPECT_EQ(outcome.slow_calls, 1);
  EXPECT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(stats_.rpc_timeouts, 1u);
}

TEST_F(RpcClientTest, ALostRequestIsSentAgainAfterItsTimeout) {
  const absl::Time sent = clock_.Now();
  Outcome outcome;
  Ping(kPeerId, outcome);
  Hop();
  ASSERT_EQ(requests_.size(), 1u);  // Lost: the peer never answers it.

  clock_.RunFor(absl::Seconds(1) - kLatency);  // The timeout passes...
  ASSERT_EQ(outcome.slow_calls, 1);
  Hop();
  ASSERT_EQ(requests_.size(), 2u);  // ...and the request goes again.
  EXPECT_EQ(requests_[1].message.transaction_id,
            requests_[0].message.transaction_id);
  EXPECT_EQ(requests_[1].message.body, requests_[0].message.body);
  EXPECT_EQ(stats_.rpc_retransmits, 1u);

  Reply(requests_[1], PongFor(requests_[1]));
  Hop();
  ASSERT_EQ(outcome.done_calls, 1);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(*outcome.done_at, sent + absl::Seconds(1) + 2 * kLatency);
  EXPECT_EQ(stats_.rpc_failures, 0u);
  // Counted from the first copy: an overstated RTT, on the safe side.
  EXPECT_EQ(client_->SmoothedRtt(peer_endpoint()),
            absl::Seconds(1) + 2 * kLatency);
}

TEST_F(RpcClientTest, GivesUpWithDeadlineExceededAfterConfiguredTimeouts) {
  RpcOptions options = DefaultOptions();
  options.timeouts.initial = absl::Milliseconds(300);
  options.give_up_after_timeouts = 4;
  MakeClient(options);

  const absl::Time sent = clock_.Now();
  Outcome outcome;
  Ping(kPeerId, outcome);
  // The peer hears the request but never answers.
  clock_.RunFor(absl::Milliseconds(300));
  ASSERT_EQ(outcome.slow_calls, 1);
  EXPECT_EQ(*outcome.slow_at, sent + absl::Milliseconds(300));
  EXPECT_EQ(stats_.rpc_timeouts, 1u);

  // Four timeouts of 300 ms: gives up at 1200 ms, not before.
  clock_.RunFor(absl::Milliseconds(899));
  EXPECT_EQ(outcome.done_calls, 0);
  EXPECT_EQ(client_->pending(), 1u);
  EXPECT_EQ(stats_.rpc_failures, 0u);
  clock_.RunFor(absl::Milliseconds(1));
  ASSERT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(*outcome.done_at, sent + absl::Milliseconds(1200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(outcome.result.status()))
      << outcome.result.status();
  const std::string message(outcome.result.status().message());
  EXPECT_NE(message.find("ping"), std::string::npos) << message;
  EXPECT_NE(message.find(peer_endpoint().ToString()), std::string::npos)
      << message;
  EXPECT_EQ(outcome.slow_calls, 1);
  EXPECT_EQ(stats_.rpc_timeouts, 1u) << "counted once per request";
  EXPECT_EQ(stats_.rpc_failures, 1u);
  EXPECT_EQ(client_->pending(), 0u);

  // Sent again after each of the first three timeouts, with the same
  // transaction id.
  ASSERT_EQ(requests_.size(), 4u);
  for (const Received& copy : requests_) {
    EXPECT_EQ(copy.message.transaction_id, requests_[0].message.transaction_id);
  }
  EXPECT_EQ(stats_.rpc_retransmits, 3u);

  // An answer after giving up is unmatched and calls nothing.
  Reply(requests_[0], PongFor(requests_[0]));
  clock_.RunUntilIdle();
  EXPECT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(stats_.unmatched_responses, 1u);
}

TEST_F(RpcClientTest, GivesUpAfterOneTimeoutWhenConfiguredSo) {
  RpcOptions options = DefaultOptions();
  options.give_up_after_timeouts = 1;
  MakeClient(options);
  const absl::Time sent = clock_.Now();
  Outcome outcome;
  Ping(kPeerId, outcome);
  clock_.RunUntilIdle();
  ASSERT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(*outcome.done_at, sent + absl::Seconds(1));
  EXPECT_TRUE(absl::IsDeadlineExceeded(outcome.result.status()));
  EXPECT_EQ(stats_.rpc_failures, 1u);
}

TEST_F(RpcClientTest, TimeoutAdaptsToMeasuredRtt) {
  for (int i = 0; i < 8; ++i) {
    Outcome outcome;
    Ping(kPeerId, outcome);
    Hop();
    ASSERT_EQ(requests_.size(), static_cast<size_t>(i + 1));
    Reply(requests_.back(), PongFor(requests_.back()));
    Hop();
    ASSERT_EQ(outcome.done_calls, 1);
  }
  EXPECT_EQ(client_->SmoothedRtt(peer_endpoint()), 2 * kLatency);

  const absl::Time sent = clock_.Now();
  Outcome unanswered;
  Ping(kPeerId, unanswered);
  while (unanswered.slow_calls == 0 && clock_.RunNext()) {
  }
  ASSERT_EQ(unanswered.slow_calls, 1);
  const absl::Duration waited = *unanswered.slow_at - sent;
  // Far below the 1 s initial timeout; never below RttBounds::min.
  EXPECT_LT(waited, absl::Milliseconds(100)) << waited;
  EXPECT_GE(waited, RttBounds{}.min) << waited;
}

TEST_F(RpcClientTest, SlowMarkComesBeforeTheTimeoutWithOneMoreCopy) {
  Outcome measured;
  Ping(kPeerId, measured);
  Hop();
  Reply(requests_.back(), PongFor(requests_.back()));
  Hop();
  ASSERT_EQ(measured.done_calls, 1);  // SRTT 20 ms, RTO 60 ms.

  const absl::Time sent = clock_.Now();
  Outcome outcome;
  Ping(kPeerId, outcome);
  while (outcome.slow_calls == 0 && clock_.RunNext()) {
  }
  ASSERT_EQ(outcome.slow_calls, 1);
  // 1.3 SRTTs is 26 ms; the mark never comes before RttBounds::min.
  EXPECT_EQ(*outcome.slow_at - sent, RttBounds{}.min);
  EXPECT_EQ(stats_.rpc_timeouts, 0u) << "the mark is not a timeout";
  EXPECT_EQ(stats_.rpc_retransmits, 1u);
  Hop();
  ASSERT_EQ(requests_.size(), 3u);  // The first ping, the request, a copy.
  EXPECT_EQ(requests_[2].message.transaction_id,
            requests_[1].message.transaction_id);
  Reply(requests_[2], PongFor(requests_[2]));
  Hop();
  EXPECT_EQ(outcome.done_calls, 1);
  EXPECT_TRUE(outcome.result.ok());
  EXPECT_EQ(outcome.slow_calls, 1);
}

TEST_F(RpcClientTest, NoSlowMarkWithoutAnOnSlowHandler) {
  Outcome measured;
  Ping(kPeerId, measured);
  Hop();
  Reply(requests_.back(), PongFor(requests_.back()));
  Hop();
  const absl::Time sent = clock_.Now();
  Outcome outcome;
  RpcHandlers handlers = Track(outcome);
  handlers.on_slow = nullptr;
  client_->Send(peer_endpoint(), kPeerId, dht::Ping{}, std::move(handlers));
  while (stats_.rpc_retransmits == 0 && clock_.RunNext()) {
  }
  // The only copy is the RTO's (SRTT 20 ms + 4 x 10 ms).
  EXPECT_EQ(clock_.Now() - sent, absl::Milliseconds(60));
  EXPECT_EQ(stats_.rpc_timeouts, 1u);
}

TEST_F(RpcClientTest, UnmeasuredPeerGetsTheTimeoutOfAllSamples) {
  for (int i = 0; i < 8; ++i) {
    Outcome outcome;
    Ping(kPeerId, outcome);
    Hop();
    Reply(requests_.back(), PongFor(requests_.back()));
    Hop();
    ASSERT_EQ(outcome.done_calls, 1);
  }
  auto third = network_.NewTransport();  // Silent: no receive handler.
  const absl::Time sent = clock_.Now();
  Outcome outcome;
  client_->Send(third->local_endpoint(), std::nullopt, dht::Ping{},
                Track(outcome));
  while (outcome.slow_calls == 0 && clock_.RunNext()) {
  }
  ASSERT_EQ(outcome.slow_calls, 1);
  EXPECT_LT(*outcome.slow_at - sent, absl::Milliseconds(100));
  EXPECT_EQ(client_->SmoothedRtt(third->local_endpoint()),
            absl::ZeroDuration());
}

TEST_F(RpcClientTest, RemembersTheRttOfOnlyTheMostRecentlyMeasuredPeers) {
  RpcOptions options = DefaultOptions();
  options.rtt_peers = 1;
  MakeClient(options);
  // A second peer that answers every ping at once.
  auto second = network_.NewTransport();
  second->SetReceiveHandler([&](const net::Endpoint& from,
                                std::span<const uint8_t> bytes) {
    auto request = DecodeMessage(bytes, clock_.Now());
    ASSERT_TRUE(request.ok()) << request.status();
    Message pong{request->transaction_id, kOtherId, Pong{from}};
    ASSERT_TRUE(second->Send(from, *EncodeMessage(pong, clock_.Now())).ok());
  });
  Outcome first;
  Ping(kPeerId, first);
  Hop();
  Reply(requests_.back(), PongFor(requests_.back()));
  Hop();
  ASSERT_EQ(first.done_calls, 1);
  EXPECT_EQ(client_->SmoothedRtt(peer_endpoint()), 2 * kLatency);

  Outcome other;
  client_->Send(second->local_endpoint(), kOtherId, dht::Ping{}, Track(other));
  Hop();
  Hop();
  ASSERT_EQ(other.done_calls, 1);
  ASSERT_TRUE(other.result.ok()) << other.result.status();
  EXPECT_EQ(client_->SmoothedRtt(second->local_endpoint()), 2 * kLatency);
  EXPECT_EQ(client_->SmoothedRtt(peer_endpoint()), absl::ZeroDuration());
}

TEST_F(RpcClientTest, SendToDetachedTransportFailsAsynchronously) {
  network_.Detach(client_endpoint());
  Outcome outcome;
  Ping(kPeerId, outcome);
  EXPECT_EQ(outcome.done_calls, 0) << "on_done ran inside Send";
  EXPECT_EQ(client_->pending(), 0u);
  EXPECT_EQ(stats_.send_errors, 1u);
  EXPECT_EQ(stats_.datagrams_out, 0u);

  clock_.RunNext();
  ASSERT_EQ(outcome.done_calls, 1);
  EXPECT_TRUE(absl::IsUnavailable(outcome.result.status()))
      << outcome.result.status();
  clock_.RunUntilIdle();
  EXPECT_EQ(outcome.done_calls, 1);
  EXPECT_EQ(outcome.slow_calls, 0);
  EXPECT_TRUE(requests_.empty());
  EXPECT_EQ(stats_.rpc_failures, 0u);
  EXPECT_EQ(stats_.rpc_timeouts, 0u);
}

TEST_F(RpcClientTest, UnencodableRequestFailsAsynchronously) {
  Outcome outcome;
  // A token longer than kMaxTokenBytes cannot be encoded.
  client_->Send(peer_endpoint(), kPeerId,
                Store{storage::Record{"key", "value", 1,
                                      clock_.Now() + absl::Hours(1)},
                      std::string(kMaxTokenBytes + 1, 't')},
                Track(outcome));
  EXPECT_EQ(outcome.done_calls, 0) << "on_done ran inside Send";
  EXPECT_EQ(client_->pending(), 0u);
  clock_.RunUntilIdle();
  ASSERT_EQ(outcome.done_calls, 1);
  EXPECT_TRUE(absl::IsInvalidArgument(outcome.result.status()))
      << outcome.result.status();
  EXPECT_TRUE(requests_.empty());
}

TEST_F(RpcClientTest, OnSlowMaySendMoreRequests) {
  RpcOptions options = DefaultOptions();
  options.give_up_after_timeouts = 2;
  MakeClient(options);
  const absl::Time sent = clock_.Now();
  Outcome first;
  std::vector<Outcome> more(64);
  RpcHandlers handlers = Track(first);
  handlers.on_slow = [&, record_slow = std::move(handlers.on_slow)]() mutable {
    record_slow();
    // Enough new requests to make the pending table grow.
    for (Outcome& outcome : more) Ping(kPeerId, outcome);
  };
  client_->Send(peer_endpoint(), kPeerId, dht::Ping{}, std::move(handlers));
  clock_.RunFor(absl::Seconds(1));
  ASSERT_EQ(first.slow_calls, 1);
  EXPECT_EQ(client_->pending(), 1u + more.size());

  clock_.RunFor(absl::Seconds(1));
  ASSERT_EQ(first.done_calls, 1);
  EXPECT_EQ(*first.done_at, sent + absl::Seconds(2));
  EXPECT_TRUE(absl::IsDeadlineExceeded(first.result.status()));
  EXPECT_EQ(client_->pending(), more.size());
}

TEST_F(RpcClientTest, OnDoneMaySendAnotherRequest) {
  Outcome first;
  Outcome second;
  RpcHandlers handlers;
  handlers.on_done = [&](absl::StatusOr<Message> result) {
    ++first.done_calls;
    first.result = std::move(result);
    Ping(kPeerId, second);
  };
  client_->Send(peer_endpoint(), kPeerId, dht::Ping{}, std::move(handlers));
  Hop();
  ASSERT_EQ(requests_.size(), 1u);
  Reply(requests_[0], PongFor(requests_[0]));
  Hop();
  ASSERT_EQ(first.done_calls, 1);
  EXPECT_EQ(client_->pending(), 1u);
  Hop();
  ASSERT_EQ(requests_.size(), 2u);
  Reply(requests_[1], PongFor(requests_[1]));
  Hop();
  EXPECT_EQ(second.done_calls, 1);
  EXPECT_EQ(client_->pending(), 0u);
}

TEST_F(RpcClientTest, DestroyingTheClientDropsPendingHandlersUncalled) {
  auto alive = std::make_shared<int>(0);
  bool called = false;
  auto handlers = [&called](std::shared_ptr<int> token) {
    RpcHandlers h;
    h.on_slow = [&called, token] { called = true; };
    h.on_done = [&called, token](absl::StatusOr<Message>) { called = true; };
    return h;
  };
  client_->Send(peer_endpoint(), kPeerId, dht::Ping{}, handlers(alive));
  client_->Send(peer_endpoint(), kPeerId, dht::Ping{}, handlers(alive));
  // One more that is about to fail asynchronously.
  network_.Detach(client_endpoint());
  client_->Send(peer_endpoint(), kPeerId, dht::Ping{}, handlers(alive));
  network_.Reattach(client_endpoint());
  EXPECT_GT(alive.use_count(), 1);

  client_.reset();
  EXPECT_EQ(alive.use_count(), 1) << "handlers outlived the client";

  // Timers were cancelled; the peer's answers find nobody.
  Hop();
  ASSERT_EQ(requests_.size(), 2u);
  for (const Received& request : requests_) Reply(request, PongFor(request));
  clock_.RunUntilIdle();
  EXPECT_FALSE(called);
  EXPECT_EQ(clock_.pending(), 0u);
}

}  // namespace
}  // namespace kad::dht

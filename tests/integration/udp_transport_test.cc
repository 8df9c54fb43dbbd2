#include "net/udp_transport.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/endpoint.h"
#include "net/uv_loop.h"

namespace kad::net {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(5);

struct Received {
  Endpoint from;
  std::vector<uint8_t> bytes;
};

class UdpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<UvLoop>> loop = UvLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
  }

  // Binds a transport that records what it receives into `sink`.
  std::unique_ptr<UdpTransport> Bind(const std::string& address,
                                     std::vector<Received>* sink,
                                     UdpOptions options = {}) {
    absl::StatusOr<std::unique_ptr<UdpTransport>> transport =
        UdpTransport::Create(loop_->raw(), *Endpoint::Parse(address), options);
    EXPECT_TRUE(transport.ok()) << transport.status();
    if (!transport.ok()) return nullptr;
    (*transport)
        ->SetReceiveHandler(
            [sink](const Endpoint& from, std::span<const uint8_t> datagram) {
              sink->push_back({from, {datagram.begin(), datagram.end()}});
            });
    return std::move(*transport);
  }

  // Binds [::1]:0, or returns null if this host has no IPv6 loopback.
  std::unique_ptr<UdpTransport> BindIpv6Loopback(std::vector<Received>* sink) {
    if (!UdpTransport::Create(loop_->raw(), *Endpoint::Parse("[::1]:0")).ok()) {
      return nullptr;
    }
    return Bind("[::1]:0", sink);
  }

  bool RunUntilCount(const std::vector<Received>& sink, size_t count) {
    return loop_->RunUntil([&] { return sink.size() >= count; }, kDeadline);
  }

  std::unique_ptr<UvLoop> loop_;
};

std::vector<uint8_t> Bytes(const std::string& text) {
  return {text.begin(), text.end()};
}

TEST_F(UdpTransportTest, LocalEndpointHasOsChosenPort) {
  std::vector<Received> sink;
  std::unique_ptr<UdpTransport> t = Bind("127.0.0.1:0", &sink);
  ASSERT_NE(t, nullptr);
  EXPECT_NE(t->local_endpoint().port(), 0);
  EXPECT_EQ(t->local_endpoint().AddressString(), "127.0.0.1");
}

TEST_F(UdpTransportTest, ExchangesDatagramsBothWaysOverIpv4) {
  std::vector<Received> at_a, at_b;
  std::unique_ptr<UdpTransport> a = Bind("127.0.0.1:0", &at_a);
  std::unique_ptr<UdpTransport> b = Bind("127.0.0.1:0", &at_b);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Send(b->local_endpoint(), Bytes("ping")).ok());
  ASSERT_TRUE(RunUntilCount(at_b, 1));
  EXPECT_EQ(at_b[0].from, a->local_endpoint());
  EXPECT_EQ(at_b[0].bytes, Bytes("ping"));

  ASSERT_TRUE(b->Send(at_b[0].from, Bytes("pong")).ok());
  ASSERT_TRUE(RunUntilCount(at_a, 1));
  EXPECT_EQ(at_a[0].from, b->local_endpoint());
  EXPECT_EQ(at_a[0].bytes, Bytes("pong"));

  EXPECT_EQ(a->counters().datagrams_sent, 1u);
  EXPECT_EQ(a->counters().bytes_sent, 4u);
  EXPECT_EQ(a->counters().datagrams_received, 1u);
  EXPECT_EQ(b->counters().bytes_received, 4u);
}

TEST_F(UdpTransportTest, DeliversEmptyDatagram) {
  std::vector<Received> at_a, at_b;
  std::unique_ptr<UdpTransport> a = Bind("127.0.0.1:0", &at_a);
  std::unique_ptr<UdpTransport> b = Bind("127.0.0.1:0", &at_b);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Send(b->local_endpoint(), {}).ok());
  ASSERT_TRUE(RunUntilCount(at_b, 1));
  EXPECT_TRUE(at_b[0].bytes.empty());
}

TEST_F(UdpTransportTest, ExchangesDatagramsOverIpv6) {
  std::vector<Received> at_a, at_b;
  std::unique_ptr<UdpTransport> a = BindIpv6Loopback(&at_a);
  if (a == nullptr) GTEST_SKIP() << "cannot bind [::1] on this host";
  std::unique_ptr<UdpTransport> b = Bind("[::1]:0", &at_b);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->local_endpoint().family(), Family::kIpv6);
  ASSERT_TRUE(a->Send(b->local_endpoint(), Bytes("six")).ok());
  ASSERT_TRUE(RunUntilCount(at_b, 1));
  EXPECT_EQ(at_b[0].from, a->local_endpoint());
  ASSERT_TRUE(b->Send(a->local_endpoint(), Bytes("back")).ok());
  ASSERT_TRUE(RunUntilCount(at_a, 1));
  EXPECT_EQ(at_a[0].bytes, Bytes("back"));
}

TEST_F(UdpTransportTest, DualStackSocketSeesIpv4PeersAsIpv4) {
  std::vector<Received> at_v6, at_v4;
  if (!UdpTransport::Create(loop_->raw(), *Endpoint::Parse("[::]:0")).ok()) {
    GTEST_SKIP() << "cannot bind [::] on this host";
  }
  std::unique_ptr<UdpTransport> v6 = Bind("[::]:0", &at_v6);
  std::unique_ptr<UdpTransport> v4 = Bind("127.0.0.1:0", &at_v4);
  ASSERT_TRUE(v6 && v4);
  Endpoint v6_at_loopback = *Endpoint::Parse(
      "127.0.0.1:" + std::to_string(v6->local_endpoint().port()));
  ASSERT_TRUE(v4->Send(v6_at_loopback, Bytes("hello")).ok());
  ASSERT_TRUE(RunUntilCount(at_v6, 1));
  EXPECT_EQ(at_v6[0].from, v4->local_endpoint());
  ASSERT_TRUE(v6->Send(at_v6[0].from, Bytes("reply")).ok());
  ASSERT_TRUE(RunUntilCount(at_v4, 1));
  EXPECT_EQ(at_v4[0].bytes, Bytes("reply"));
}

TEST_F(UdpTransportTest, Ipv6OnlySocketRejectsIpv4Destination) {
  std::vector<Received> sink;
  UdpOptions options;
  options.ipv6_only = true;
  absl::StatusOr<std::unique_ptr<UdpTransport>> t =
      UdpTransport::Create(loop_->raw(), *Endpoint::Parse("[::1]:0"), options);
  if (!t.ok()) GTEST_SKIP() << "cannot bind [::1] on this host";
  absl::Status status = (*t)->Send(*Endpoint::Parse("127.0.0.1:9"), Bytes("x"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(UdpTransportTest, BurstArrivesIntact) {
  constexpr int kCount = 1000;
  std::vector<Received> at_a, at_b;
  std::unique_ptr<UdpTransport> a = Bind("127.0.0.1:0", &at_a);
  std::unique_ptr<UdpTransport> b = Bind("127.0.0.1:0", &at_b);
  ASSERT_TRUE(a && b);
  auto payload = [](int i) {
    std::vector<uint8_t> bytes(100 + i % 900);
    for (size_t j = 0; j < bytes.size(); ++j) {
      bytes[j] = static_cast<uint8_t>(i * 31 + j);
    }
    bytes[0] = static_cast<uint8_t>(i >> 8);
    bytes[1] = static_cast<uint8_t>(i);
    return bytes;
  };
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(a->Send(b->local_endpoint(), payload(i)).ok()) << i;
  }
  // UDP may drop under a burst, so wait for all but accept fewer.
  loop_->RunUntil([&] { return at_b.size() == kCount; }, absl::Seconds(2));
  ASSERT_GT(at_b.size(), 0u);
  EXPECT_EQ(a->counters().datagrams_sent, static_cast<uint64_t>(kCount));
  EXPECT_EQ(a->counters().send_errors, 0u);
  for (const Received& r : at_b) {
    ASSERT_GE(r.bytes.size(), 2u);
    int i = r.bytes[0] << 8 | r.bytes[1];
    ASSERT_LT(i, kCount);
    EXPECT_EQ(r.bytes, payload(i)) << "datagram " << i;
    EXPECT_EQ(r.from, a->local_endpoint());
  }
  EXPECT_EQ(b->counters().datagrams_received, at_b.size());
}

TEST_F(UdpTransportTest, RepliesFromTheHandlerArriveIntactAndInOrder) {
  // Replies sent while a recvmmsg batch is delivered leave together at the
  // end of the batch: they must all arrive, unchanged and in order (two per
  // request, so a batch also holds more replies than requests).
  constexpr int kCount = 300;
  std::vector<Received> at_a, at_client;
  std::unique_ptr<UdpTransport> a = Bind("127.0.0.1:0", &at_a);
  std::unique_ptr<UdpTransport> client = Bind("127.0.0.1:0", &at_client);
  ASSERT_TRUE(a && client);
  UdpTransport* server = a.get();
  a->SetReceiveHandler(
      [server](const Endpoint& from, std::span<const uint8_t> datagram) {
        std::vector<uint8_t> reply(datagram.begin(), datagram.end());
        ASSERT_TRUE(server->Send(from, reply).ok());
        reply.push_back(0xff);
        ASSERT_TRUE(server->Send(from, reply).ok());
      });
  for (int i = 0; i < kCount; ++i) {
    const std::vector<uint8_t> request = {static_cast<uint8_t>(i >> 8),
                                          static_cast<uint8_t>(i)};
    ASSERT_TRUE(client->Send(a->local_endpoint(), request).ok());
  }
  loop_->RunUntil([&] { return at_client.size() == 2 * kCount; },
                  absl::Seconds(2));
  ASSERT_GT(at_client.size(), 0u);
  EXPECT_EQ(a->counters().send_errors, 0u);
  EXPECT_EQ(a->counters().datagrams_sent, 2 * a->counters().datagrams_received);
  int last = -1;
  for (size_t k = 0; k < at_client.size(); ++k) {
    const Received& r = at_client[k];
    ASSERT_GE(r.bytes.size(), 2u);
    int i = r.bytes[0] << 8 | r.bytes[1];
    bool second = r.bytes.size() == 3;
    if (second) {
      EXPECT_EQ(r.bytes[2], 0xff);
    }
    // Each request's plain reply precedes its marked one, and requests
    // are answered in order (UDP may drop, never reorder, on loopback).
    EXPECT_GE(2 * i + second, last + 1) << "datagram " << k;
    last = 2 * i + second;
    EXPECT_EQ(r.from, a->local_endpoint());
  }
}

TEST_F(UdpTransportTest, SendToWrongFamilyIsInvalidArgument) {
  std::vector<Received> sink;
  std::unique_ptr<UdpTransport> t = Bind("127.0.0.1:0", &sink);
  ASSERT_NE(t, nullptr);
  absl::Status status = t->Send(*Endpoint::Parse("[::1]:4222"), Bytes("x"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(t->counters().datagrams_sent, 0u);
}

TEST_F(UdpTransportTest, BindToPortInUseFailsWithClearMessage) {
  std::vector<Received> sink;
  std::unique_ptr<UdpTransport> first = Bind("127.0.0.1:0", &sink);
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<UdpTransport>> second =
      UdpTransport::Create(loop_->raw(), first->local_endpoint());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(),
              HasSubstr("cannot bind " + first->local_endpoint().ToString() +
                        ": address already in use"));
}

TEST_F(UdpTransportTest, RejectsOversizedSend) {
  std::vector<Received> sink;
  UdpOptions options;
  options.max_datagram_bytes = 64;
  std::unique_ptr<UdpTransport> t = Bind("127.0.0.1:0", &sink, options);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->Send(t->local_endpoint(), std::vector<uint8_t>(64)).ok());
  absl::Status status = t->Send(t->local_endpoint(), std::vector<uint8_t>(65));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(UdpTransportTest, DropsAndCountsOversizedIncomingDatagram) {
  std::vector<Received> at_small, at_big;
  UdpOptions small_options;
  small_options.max_datagram_bytes = 100;
  std::unique_ptr<UdpTransport> small =
      Bind("127.0.0.1:0", &at_small, small_options);
  std::unique_ptr<UdpTransport> big = Bind("127.0.0.1:0", &at_big);
  ASSERT_TRUE(small && big);
  ASSERT_TRUE(
      big->Send(small->local_endpoint(), std::vector<uint8_t>(101)).ok());
  ASSERT_TRUE(
      big->Send(small->local_endpoint(), std::vector<uint8_t>(100)).ok());
  ASSERT_TRUE(RunUntilCount(at_small, 1));
  EXPECT_EQ(at_small[0].bytes.size(), 100u);
  EXPECT_EQ(small->counters().datagrams_truncated, 1u);
  EXPECT_EQ(small->counters().datagrams_received, 1u);
}

TEST_F(UdpTransportTest, SendAfterCloseIsUnavailable) {
  std::vector<Received> sink;
  std::unique_ptr<UdpTransport> t = Bind("127.0.0.1:0", &sink);
  ASSERT_NE(t, nullptr);
  Endpoint self = t->local_endpoint();
  t->Close();
  t->Close();
  EXPECT_EQ(t->Send(self, Bytes("x")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(t->local_endpoint(), self);
}

TEST_F(UdpTransportTest, ClosedSocketFreesItsPort) {
  std::vector<Received> sink;
  std::unique_ptr<UdpTransport> t = Bind("127.0.0.1:0", &sink);
  ASSERT_NE(t, nullptr);
  Endpoint address = t->local_endpoint();
  t.reset();
  EXPECT_TRUE(UdpTransport::Create(loop_->raw(), address).ok());
}

TEST_F(UdpTransportTest, HandlerMayReplaceItselfWhileRunning) {
  std::vector<Received> at_a;
  std::unique_ptr<UdpTransport> a = Bind("127.0.0.1:0", &at_a);
  std::unique_ptr<UdpTransport> b = Bind("127.0.0.1:0", &at_a);
  ASSERT_TRUE(a && b);
  int first = 0, second = 0;
  UdpTransport* target = b.get();
  b->SetReceiveHandler(
      [&first, &second, target](const Endpoint&, std::span<const uint8_t>) {
        ++first;
        target->SetReceiveHandler(
            [&second](const Endpoint&, std::span<const uint8_t>) { ++second; });
      });
  ASSERT_TRUE(a->Send(b->local_endpoint(), Bytes("1")).ok());
  ASSERT_TRUE(a->Send(b->local_endpoint(), Bytes("2")).ok());
  ASSERT_TRUE(loop_->RunUntil([&] { return second == 1; }, kDeadline));
  EXPECT_EQ(first, 1);
}

TEST_F(UdpTransportTest, RejectsBadOptions) {
  UdpOptions options;
  options.receive_batch = 0;
  EXPECT_EQ(UdpTransport::Create(loop_->raw(), *Endpoint::Parse("127.0.0.1:0"),
                                 options)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kad::net

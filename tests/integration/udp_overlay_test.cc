// Real loopback UDP: 30 nodes in one process on one libuv loop.
#include <random>

#include "absl/strings/str_cat.h"
#include "dht/node.h"
#include "dht/routing_table.h"
#include "gtest/gtest.h"
#include "net/udp_transport.h"
#include "net/uv_clock.h"
#include "net/uv_loop.h"
#include "storage/memory_store.h"

namespace kad {
namespace {

constexpr int kNodes = 30;
constexpr int kKeys = 100;
constexpr absl::Duration kDeadline = absl::Seconds(60);

struct RealNode {
  std::unique_ptr<net::UdpTransport> transport;
  std::unique_ptr<storage::MemoryStore> store;
  std::unique_ptr<dht::Node> node;
};

class UdpOverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = net::UvLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
    clock_ = std::make_unique<net::UvClock>(loop_->raw());
  }
  void TearDown() override {
    nodes_.clear();
    clock_.reset();
  }

  void StartNode() {
    RealNode real;
    auto transport = net::UdpTransport::Create(
        loop_->raw(), *net::Endpoint::Parse("127.0.0.1:0"));
    ASSERT_TRUE(transport.ok()) << transport.status();
    real.transport = *std::move(transport);
    real.store = std::make_unique<storage::MemoryStore>();
    dht::NodeOptions options;
    options.seed = 1000 + nodes_.size();
    real.node = std::make_unique<dht::Node>(options, *real.transport, *clock_,
                                            *real.store);
    real.node->Start();
    nodes_.push_back(std::move(real));
  }

  // Runs `start(callback)` on the loop until the callback fires.
  template <typename T, typename Start>
  absl::StatusOr<T> Run(Start start) {
    std::optional<absl::StatusOr<T>> result;
    start([&](absl::StatusOr<T> r) { result = std::move(r); });
    if (!loop_->RunUntil([&] { return result.has_value(); }, kDeadline)) {
      return absl::DeadlineExceededError("operation did not finish");
    }
    return *std::move(result);
  }

  std::unique_ptr<net::UvLoop> loop_;
  std::unique_ptr<net::UvClock> clock_;
  std::vector<RealNode> nodes_;
};

TEST_F(UdpOverlayTest, PutsAndGetsSurviveLosingAThirdOfTheNodes) {
  for (int i = 0; i < kNodes; ++i) {
    StartNode();
    std::vector<net::Endpoint> seeds;
    if (i > 0) seeds.push_back(nodes_[0].node->endpoint());
    auto joined = Run<int>([&](auto done) {
      nodes_.back().node->Bootstrap(seeds, std::move(done));
    });
    ASSERT_TRUE(joined.ok()) << "node " << i << ": " << joined.status();
  }
  std::mt19937_64 gen(7);
  for (int k = 0; k < kKeys; ++k) {
    dht::Node& from = *nodes_[gen() % kNodes].node;
    storage::Record record{absl::StrCat("key-", k), absl::StrCat("value-", k),
                           1, clock_->Now() + absl::Hours(1)};
    auto put = Run<dht::PutResult>(
        [&](auto done) { from.Put(record, std::move(done)); });
    ASSERT_TRUE(put.ok()) << record.key << ": " << put.status();
    EXPECT_GE(put->stored, 15) << record.key;
  }
  auto get_all = [&](int* replicas_seen) {
    for (int k = 0; k < kKeys; ++k) {
      dht::Node& from = *nodes_[gen() % nodes_.size()].node;
      auto got = Run<dht::GetResult>(
          [&](auto done) { from.Get(absl::StrCat("key-", k), std::move(done)); });
      ASSERT_TRUE(got.ok()) << "key-" << k << ": " << got.status();
      EXPECT_EQ(got->record.value, absl::StrCat("value-", k));
      if (replicas_seen) *replicas_seen += got->replicas;
    }
  };
  get_all(nullptr);
  // Stop a third of the nodes: each key loses about a third of its
  // replicas (it lives on 20 of the 30).
  std::vector<RealNode> stopped;
  for (int i = 0; i < kNodes / 3; ++i) {
    stopped.push_back(std::move(nodes_.back()));
    nodes_.pop_back();
  }
  int lost_replicas = 0;
  for (int k = 0; k < kKeys; ++k) {
    for (const RealNode& gone : stopped) {
      if (gone.store->Get(absl::StrCat("key-", k), clock_->Now()).ok()) {
        ++lost_replicas;
      }
    }
  }
  EXPECT_GE(lost_replicas, kKeys * 20 / 3 * 8 / 10);  // About a third each.
  stopped.clear();
  get_all(nullptr);
}

}  // namespace
}  // namespace kad

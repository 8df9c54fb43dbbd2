// runtime::NodeRuntime re-keys between runs (runtime/node_runtime.h): a
// node whose saved id is not bound to its public address saves a bound
// one in its data dir, and comes back with it at its next start.
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "dht/id_binding.h"
#include "gtest/gtest.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"
#include "runtime/data_dir.h"
#include "runtime/node_runtime.h"
#include "tests/testing/scratch_dir.h"

namespace kad::runtime {
namespace {

// The simulator's 10.x hosts, made verifiable as in the benchmarks.
constexpr dht::IdBindingOptions kBinding{.verify_private = true};

struct Started {
  std::unique_ptr<NodeRuntime> runtime;
  std::optional<dht::NodeId> saved;  // What CheckIdBinding saved.
};

class NodeRuntimeIdBindingTest : public ::testing::Test {
 protected:
  NodeRuntimeIdBindingTest()
      : network_(clock_, net::SimNetworkOptions{}),
        transport_(network_.NewTransport()) {}

  // Starts a runtime on the one host with the data dir, checks its
  // binding, and returns it.
  Started StartAndCheck(std::optional<dht::NodeId> id = std::nullopt) {
    Started run;
    absl::StatusOr<std::unique_ptr<DataDir>> dir = DataDir::Open(dir_.path());
    EXPECT_TRUE(dir.ok()) << dir.status();
    if (!dir.ok()) return run;
    NodeRuntimeOptions options;
    options.node.seed = 3;
    options.node.id = id;
    options.node.id_binding = kBinding;
    absl::StatusOr<std::unique_ptr<NodeRuntime>> runtime = NodeRuntime::Create(
        std::move(options), *transport_, clock_, *std::move(dir));
    EXPECT_TRUE(runtime.ok()) << runtime.status();
    if (!runtime.ok()) return run;
    run.runtime = *std::move(runtime);
    run.saved = run.runtime->CheckIdBinding();
    return run;
  }

  testing::ScratchDir dir_{"kad-rekey"};
  net::SimClock clock_;
  net::SimNetwork network_;
  std::unique_ptr<net::SimTransport> transport_;
};

TEST_F(NodeRuntimeIdBindingTest, UnboundSavedIdIsReplacedAtTheNextStart) {
  // A first run saves an id that is not bound to the host's address (as
  // a node behind a NAT would have drawn), which it was given.
  std::mt19937_64 gen(8);
  const dht::NodeId unbound = dht::NodeId::Random(gen);
  ASSERT_EQ(dht::CheckId(unbound, transport_->local_endpoint(), kBinding),
            dht::IdCheck::kMismatch);
  {
    absl::StatusOr<std::unique_ptr<DataDir>> dir = DataDir::Open(dir_.path());
    ASSERT_TRUE(dir.ok());
    ASSERT_TRUE((*dir)->SaveId(unbound).ok());
  }
  // The next run starts with it, finds it unbound and saves a bound one.
  Started second = StartAndCheck();
  ASSERT_NE(second.runtime, nullptr);
  EXPECT_EQ(second.runtime->node().id(), unbound);
  EXPECT_FALSE(second.runtime->node().id_bound());
  ASSERT_TRUE(second.saved.has_value());
  EXPECT_EQ(dht::CheckId(*second.saved, transport_->local_endpoint(), kBinding),
            dht::IdCheck::kVerified);
  EXPECT_EQ(second.runtime->CheckIdBinding(), std::nullopt);  // Once only.
  second.runtime.reset();
  // The run after that is bound.
  Started third = StartAndCheck();
  ASSERT_NE(third.runtime, nullptr);
  EXPECT_EQ(third.runtime->node().id(), *second.saved);
  EXPECT_TRUE(third.runtime->node().id_bound());
  EXPECT_EQ(third.saved, std::nullopt);
}

TEST_F(NodeRuntimeIdBindingTest, AnIdTheCallerChoseIsNeverReplaced) {
  std::mt19937_64 gen(9);
  const dht::NodeId chosen = dht::NodeId::Random(gen);
  Started run = StartAndCheck(chosen);
  ASSERT_NE(run.runtime, nullptr);
  EXPECT_FALSE(run.runtime->node().id_bound());
  EXPECT_EQ(run.saved, std::nullopt);
  EXPECT_EQ(*run.runtime->data_dir()->LoadId(), chosen);
}

}  // namespace
}  // namespace kad::runtime

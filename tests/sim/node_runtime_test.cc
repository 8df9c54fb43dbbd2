// runtime::NodeRuntime on the simulator: joining with retries, the data
// dir (id, contacts, publications) across restarts, and the reason it
// exists — a publisher restarted on its data dir goes on republishing the
// records it put.
#include "runtime/node_runtime.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "dht/routing_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"
#include "runtime/contacts_file.h"
#include "runtime/data_dir.h"

namespace kad::runtime {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kJoinDeadline = absl::Minutes(2);
constexpr absl::Duration kRecordTtl = absl::Minutes(10);

// One simulated host: its transport and the runtime on it.
struct Host {
  std::unique_ptr<net::SimTransport> transport;
  std::unique_ptr<NodeRuntime> runtime;
};

class NodeRuntimeTest : public ::testing::Test {
 protected:
  NodeRuntimeTest() : network_(clock_, net::SimNetworkOptions{}) {}
  ~NodeRuntimeTest() override { hosts_.clear(); }  // Before the dir goes.

  std::string DirPath(const std::string& name) const {
    return absl::StrCat(root_, "/", name);
  }

  // Options every node in these tests shares: records move only by put
  // and republish (no replication, no hand-off), so a record whose
  // publisher stops republishing is gone once it expires.
  NodeRuntimeOptions Options(std::vector<net::Endpoint> seeds) {
    NodeRuntimeOptions options;
    options.node.seed = ++seeds_drawn_;
    options.node.replicate_interval = absl::InfiniteDuration();
    options.node.handoff_delay = absl::InfiniteDuration();
    options.seeds = std::move(seeds);
    return options;
  }

  // Creates a runtime on a new host (or on `transport`, if given) and
  // starts it. `dir` empty: in-memory stores.
  absl::StatusOr<Host*> StartHost(
      NodeRuntimeOptions options, const std::string& dir = "",
      std::unique_ptr<net::SimTransport> transport = nullptr) {
    std::unique_ptr<DataDir> data_dir;
    if (!dir.empty()) {
      absl::StatusOr<std::unique_ptr<DataDir>> opened = DataDir::Open(dir);
      if (!opened.ok()) return opened.status();
      data_dir = *std::move(opened);
    }
    if (transport == nullptr) transport = network_.NewTransport();
    absl::StatusOr<std::unique_ptr<NodeRuntime>> runtime = NodeRuntime::Create(
        std::move(options), *transport, clock_, std::move(data_dir));
    if (!runtime.ok()) return runtime.status();
    (*runtime)->Start();
    hosts_.push_back(std::make_unique<Host>(
        Host{std::move(transport), *std::move(runtime)}));
    return hosts_.back().get();
  }

  // Destroys a host: its node, stores and data dir, then its transport.
  void StopHost(Host* host) {
    std::erase_if(hosts_, [host](const auto& h) { return h.get() == host; });
  }

  // Starts a seed and `joiners` nodes joining through it; runs until all
  // have joined.
  void StartOverlay(int joiners) {
    Host* seed = StartHost(Options({})).value();
    seed_ = seed->transport->local_endpoint();
    std::vector<Host*> started;
    for (int i = 0; i < joiners; ++i) {
      started.push_back(StartHost(Options({seed_})).value());
    }
    ASSERT_TRUE(RunUntil([&] {
      for (Host* host : started) {
        if (!host->runtime->joined()) return false;
      }
      return true;
    }));
  }

  bool RunUntil(absl::FunctionRef<bool()> done,
                absl::Duration limit = kJoinDeadline) {
    return clock_.RunWhile([&] { return !done(); }, clock_.Now() + limit);
  }

  // Runs one node operation to completion in virtual time.
  template <typename T>
  absl::StatusOr<T> Await(
      absl::FunctionRef<void(dht::Node::Callback<T>)> start) {
    std::optional<absl::StatusOr<T>> result;
    start([&result](absl::StatusOr<T> r) { result = std::move(r); });
    if (!RunUntil([&] { return result.has_value(); })) {
      return absl::DeadlineExceededError("no result in virtual time");
    }
    return *std::move(result);
  }

  absl::StatusOr<dht::GetResult> Get(dht::Node& node, const std::string& key) {
    return Await<dht::GetResult>([&](dht::Node::Callback<dht::GetResult> done) {
      node.Get(key, std::move(done));
    });
  }

  net::SimClock clock_;
  net::SimNetwork network_;
  kad::testing::ScratchDir scratch_{"kad-runtime"};
  const std::string& root_ = scratch_.path();
  uint64_t seeds_drawn_ = 0;
  net::Endpoint seed_;  // StartOverlay's first node.
  std::vector<std::unique_ptr<Host>> hosts_;
};

TEST_F(NodeRuntimeTest, JoinsThroughItsSeeds) {
  Host* first = StartHost(Options({})).value();
  EXPECT_THAT(first->runtime->seeds(), IsEmpty());
  Host* second =
      StartHost(Options({first->transport->local_endpoint()})).value();
  ASSERT_TRUE(RunUntil([&] { return second->runtime->joined(); }));
  EXPECT_EQ(first->runtime->node().routing_table().size(), 1u);
  // With no seeds there is nothing to join: it starts a new overlay.
  EXPECT_FALSE(first->runtime->joined());
}

TEST_F(NodeRuntimeTest, KeepsTryingToJoinUntilASeedAnswers) {
  // A host with no node yet: datagrams to it go unanswered.
  std::unique_ptr<net::SimTransport> late = network_.NewTransport();
  const net::Endpoint late_endpoint = late->local_endpoint();
  Host* joiner = StartHost(Options({late_endpoint})).value();
  clock_.RunUntil(clock_.Now() + absl::Seconds(30));
  EXPECT_FALSE(joiner->runtime->joined());

  ASSERT_TRUE(StartHost(Options({}), "", std::move(late)).ok());
  // Retries back off to at most RejoinOptions::max_delay apart.
  ASSERT_TRUE(RunUntil([&] { return joiner->runtime->joined(); },
                       dht::RejoinOptions{}.max_delay + absl::Seconds(10)));
  EXPECT_EQ(
      joiner->runtime->node().routing_table().AllContacts().front().endpoint,
      late_endpoint);
}

TEST_F(NodeRuntimeTest, ADataDirKeepsTheNodesId) {
  const std::string dir = DirPath("node");
  Host* host = StartHost(Options({}), dir).value();
  const dht::NodeId id = host->runtime->node().id();
  StopHost(host);

  Host* restarted = StartHost(Options({}), dir).value();
  EXPECT_EQ(restarted->runtime->node().id(), id);
  StopHost(restarted);

  NodeRuntimeOptions other_id = Options({});
  other_id.node.id = dht::NodeId::ForKey("someone else");
  absl::StatusOr<Host*> refused = StartHost(other_id, dir);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(),
              HasSubstr(absl::StrCat("belongs to node ", id.ToHex())));
}

TEST_F(NodeRuntimeTest, ASecondNodeOnTheSameDataDirIsRefused) {
  const std::string dir = DirPath("node");
  ASSERT_TRUE(StartHost(Options({}), dir).ok());
  absl::StatusOr<Host*> second = StartHost(Options({}), dir);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr("in use by another kad node"));
}

TEST_F(NodeRuntimeTest, SavesContactsSoonAfterStartThenPeriodically) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay(3));
  const std::string dir = DirPath("node");
  const std::string contacts_file = absl::StrCat(dir, "/", kContactsFileName);
  const absl::Time started = clock_.Now();
  Host* host = StartHost(Options({seed_}), dir).value();
  ASSERT_TRUE(RunUntil([&] { return host->runtime->joined(); }));
  ASSERT_LT(clock_.Now(), started + kFirstContactSave);
  EXPECT_FALSE(std::filesystem::exists(contacts_file));

  clock_.RunUntil(started + kFirstContactSave);
  EXPECT_THAT(LoadContactsFile(contacts_file).value(), Contains(seed_));

  std::filesystem::remove(contacts_file);
  clock_.RunUntil(started + kFirstContactSave + kContactSavePeriod);
  EXPECT_THAT(LoadContactsFile(contacts_file).value(), Contains(seed_));
}

TEST_F(NodeRuntimeTest, RestartedWithoutSeedsRejoinsThroughSavedContacts) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay(3));
  const std::string dir = DirPath("node");
  Host* host = StartHost(Options({seed_}), dir).value();
  ASSERT_TRUE(RunUntil([&] { return host->runtime->joined(); }));
  const size_t known = host->runtime->node().routing_table().size();
  ASSERT_TRUE(host->runtime->SaveContacts().ok());
  StopHost(host);

  Host* restarted = StartHost(Options({}), dir).value();
  EXPECT_EQ(restarted->runtime->seeds().size(), known);
  EXPECT_THAT(restarted->runtime->seeds(), Contains(seed_));
  EXPECT_TRUE(RunUntil([&] { return restarted->runtime->joined(); }));
}

// The scenario of issue 9: a node puts a record, stops, the record expires
// everywhere, and the node is started again. Returns what a get through
// another node finds a republish interval after the restart.
class RepublishAfterRestartTest : public NodeRuntimeTest {
 protected:
  absl::StatusOr<dht::GetResult> PutStopExpireRestartAndGet(
      const std::string& dir) {
    StartOverlay(20);
    dht::Node& reader = hosts_[1]->runtime->node();
    Host* publisher = StartHost(Options({seed_}), dir).value();
    EXPECT_TRUE(RunUntil([&] { return publisher->runtime->joined(); }));
    const storage::Record record{"kept", "across restarts", 1,
                                 clock_.Now() + kRecordTtl};
    absl::StatusOr<dht::PutResult> put =
        Await<dht::PutResult>([&](dht::Node::Callback<dht::PutResult> done) {
          publisher->runtime->node().Put(record, std::move(done));
        });
    EXPECT_TRUE(put.ok()) << put.status();
    EXPECT_TRUE(Get(reader, "kept").ok());
    EXPECT_EQ(publisher->runtime->publications().size(), 1u);
    EXPECT_TRUE(publisher->runtime->SaveContacts().ok());
    StopHost(publisher);

    clock_.RunUntil(clock_.Now() + kRecordTtl + absl::Minutes(1));
    EXPECT_EQ(Get(reader, "kept").status().code(), absl::StatusCode::kNotFound)
        << "the record should have expired everywhere";

    // Restarted on the same dir it needs no seeds: its saved contacts do.
    NodeRuntimeOptions restart =
        Options(dir.empty() ? std::vector<net::Endpoint>{seed_}
                            : std::vector<net::Endpoint>{});
    const absl::Duration republish = restart.node.republish_interval;
    Host* restarted = StartHost(std::move(restart), dir).value();
    EXPECT_TRUE(RunUntil([&] { return restarted->runtime->joined(); }));
    clock_.RunUntil(clock_.Now() + republish + absl::Minutes(1));
    return Get(reader, "kept");
  }
};

TEST_F(RepublishAfterRestartTest, APublisherRestartedOnItsDataDirRepublishes) {
  absl::StatusOr<dht::GetResult> got =
      PutStopExpireRestartAndGet(DirPath("publisher"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record.value, "across restarts");
  EXPECT_GT(got->record.expires, clock_.Now());
}

TEST_F(RepublishAfterRestartTest, WithoutADataDirTheRecordStaysGone) {
  EXPECT_EQ(PutStopExpireRestartAndGet("").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kad::runtime

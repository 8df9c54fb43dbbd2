// GroupCommitter (dht/group_committer.h): batching, acknowledgements after
// the commit, failed commits, the bounds; and a node whose store answers
// wait for the commit. On the fake staging store of
// tests/testing/staging_store.h and the simulator's clock.
#include "dht/group_committer.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dht/node.h"
#include "gtest/gtest.h"
#include "net/sim_clock.h"
#include "net/sim_network.h"
#include "storage/memory_store.h"
#include "tests/testing/sim_builders.h"
#include "tests/testing/staging_store.h"

namespace kad::dht {
namespace {

using storage::Record;
using testing::StagingStore;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

Record MakeRecord(std::string key) {
  return Record{std::move(key), "value", 1, kStart + absl::Hours(1)};
}

// Outcomes of the acknowledgements parked, by index; nullopt: not yet.
class Acks {
 public:
  GroupCommitter::Ack Next() {
    outcomes_.emplace_back();
    return [this, i = outcomes_.size() - 1](const absl::Status& commit) {
      outcomes_[i] = commit;
    };
  }
  size_t called() const {
    size_t n = 0;
    for (const auto& outcome : outcomes_) n += outcome.has_value();
    return n;
  }
  const std::optional<absl::Status>& operator[](size_t i) const {
    return outcomes_[i];
  }

 private:
  std::vector<std::optional<absl::Status>> outcomes_;
};

class GroupCommitterTest : public ::testing::Test {
 protected:
  // Puts `n` new records, each followed by a parked acknowledgement, as
  // the node does for the store requests of one turn of the loop.
  void PutAndPark(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(
          committer_.Put(MakeRecord(absl::StrCat("k", next_key_++)), kStart)
              .ok());
      ASSERT_TRUE(committer_.pending());
      committer_.AfterCommit(acks_.Next());
    }
  }

  net::SimClock clock_{kStart};
  StagingStore store_;
  GroupCommitter committer_{store_, clock_,
                            {.max_batch = 8, .max_delay = absl::Seconds(1)}};
  Acks acks_;
  int next_key_ = 0;
};

TEST_F(GroupCommitterTest, StoresArrivingTogetherShareOneCommitThenAllAck) {
  PutAndPark(3);
  EXPECT_EQ(acks_.called(), 0u);  // Never from inside AfterCommit.
  clock_.RunFor(kGatherStep / 2);  // The next turn: more came, so wait.
  PutAndPark(2);
  EXPECT_EQ(acks_.called(), 0u);
  EXPECT_EQ(store_.commits(), 0);
  clock_.RunUntilIdle();  // A step that brought nothing: commit.
  EXPECT_EQ(store_.commits(), 1);
  ASSERT_EQ(acks_.called(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_TRUE(acks_[i]->ok()) << i;
  EXPECT_FALSE(committer_.pending());
  EXPECT_EQ(store_.staged(), 0u);
}

TEST_F(GroupCommitterTest, ALoneStoreIsCommittedAtTheNextTurn) {
  PutAndPark(1);
  EXPECT_EQ(store_.commits(), 0);
  clock_.RunFor(absl::ZeroDuration());
  EXPECT_EQ(store_.commits(), 1);
  EXPECT_EQ(acks_.called(), 1u);
}

TEST_F(GroupCommitterTest, AStepThatBringsOneStoreEndsTheBatch) {
  PutAndPark(4);
  clock_.RunFor(absl::ZeroDuration());  // Four came: gather.
  PutAndPark(1);
  clock_.RunFor(kGatherStep);  // One came: a trickle, not a burst.
  EXPECT_EQ(store_.commits(), 1);
  EXPECT_EQ(acks_.called(), 5u);
}

TEST_F(GroupCommitterTest, ThePutThatFillsTheBatchCommitsIt) {
  PutAndPark(7);
  EXPECT_EQ(store_.commits(), 0);
  ASSERT_TRUE(committer_.Put(MakeRecord("eighth"), kStart).ok());
  EXPECT_EQ(store_.commits(), 1);
  EXPECT_EQ(acks_.called(), 7u);
  EXPECT_FALSE(committer_.pending());  // Its own answer need not wait.
  PutAndPark(1);
  EXPECT_EQ(store_.staged(), 1u);
  clock_.RunUntilIdle();
  EXPECT_EQ(acks_.called(), 8u);
}

TEST_F(GroupCommitterTest, ABatchStillGrowingIsCommittedAtMaxDelay) {
  GroupCommitter steady_stream(store_, clock_,
                              {.max_batch = 1000, .max_delay = kGatherStep * 5});
  int puts = 0;
  while (store_.commits() == 0 && puts < 200) {
    for (int i = 0; i < 2; ++i) {  // Two more stores every step.
      ASSERT_TRUE(
          steady_stream.Put(MakeRecord(absl::StrCat("t", puts++)), kStart).ok());
    }
    clock_.RunFor(kGatherStep);
  }
  EXPECT_EQ(store_.commits(), 1);
  EXPECT_LE(puts, 2 * 7);
}

TEST_F(GroupCommitterTest, AFailedCommitGivesEveryWaiterItsErrorAndUndoesTheBatch) {
  ASSERT_TRUE(committer_.Put(MakeRecord("kept"), kStart).ok());
  clock_.RunUntilIdle();
  store_.FailNextCommit();
  PutAndPark(4);
  clock_.RunUntilIdle();
  ASSERT_EQ(acks_.called(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(acks_[i]->code(), absl::StatusCode::kResourceExhausted) << i;
  }
  EXPECT_TRUE(committer_.Get("kept", kStart).ok());
  EXPECT_EQ(committer_.Get("k0", kStart).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(committer_.stats().records, 1u);
  // The next batch commits again.
  PutAndPark(1);
  clock_.RunUntilIdle();
  EXPECT_TRUE(acks_[4]->ok());
}

TEST_F(GroupCommitterTest, AnEarlyCommitByARemovalStillReachesTheWaiters) {
  store_.FailNextCommit();
  PutAndPark(2);
  EXPECT_FALSE(committer_.Remove("absent"));  // The store commits first.
  EXPECT_FALSE(committer_.pending());
  clock_.RunUntilIdle();
  ASSERT_EQ(acks_.called(), 2u);
  EXPECT_FALSE(acks_[0]->ok());
  EXPECT_FALSE(acks_[1]->ok());
}

TEST_F(GroupCommitterTest, ParkedAcknowledgementsAreBounded) {
  ASSERT_TRUE(committer_.Put(MakeRecord("k"), kStart).ok());
  // Stores that change nothing stage nothing, but wait while a batch does.
  for (int i = 0; i < 8; ++i) committer_.AfterCommit(acks_.Next());
  EXPECT_EQ(acks_.called(), 0u);
  committer_.AfterCommit(acks_.Next());  // The ninth commits first.
  EXPECT_EQ(acks_.called(), 8u);
  clock_.RunUntilIdle();
  EXPECT_EQ(acks_.called(), 9u);
}

TEST_F(GroupCommitterTest, AStoreThatStagesNothingIsAPassThrough) {
  storage::MemoryStore memory;
  GroupCommitter plain(memory, clock_, {});
  ASSERT_TRUE(plain.Put(MakeRecord("k"), kStart).ok());
  EXPECT_FALSE(plain.pending());
  EXPECT_TRUE(plain.Get("k", kStart).ok());
  EXPECT_EQ(clock_.RunUntilIdle(), 0u);  // Nothing scheduled.
}

// ---- A node on a staging store ---------------------------------------------

class StagingNodeTest : public ::testing::Test {
 protected:
  StagingNodeTest()
      : network_(clock_, testing::ConstantRtt(absl::Milliseconds(20))),
        holder_transport_(network_.NewTransport()),
        putter_transport_(network_.NewTransport()),
        holder_(Options(1), *holder_transport_, clock_, staging_),
        putter_(Options(2), *putter_transport_, clock_, memory_) {
    holder_.Start();
    putter_.Start();
    std::optional<absl::StatusOr<int>> joined;
    putter_.Bootstrap({holder_.endpoint()},
                      [&](absl::StatusOr<int> r) { joined = r; });
    clock_.RunUntilIdle();
    EXPECT_TRUE(joined && joined->ok());
  }

  static NodeOptions Options(uint64_t seed) {
    NodeOptions options;
    options.seed = seed;
    // Only the puts store: no maintenance pushes.
    options.replicate_interval = absl::InfiniteDuration();
    options.handoff_delay = absl::InfiniteDuration();
    return options;
  }

  // Puts `key` from the putter; records what the holder's store looked like
  // when the result came back.
  PutResult Put(const std::string& key) {
    std::optional<absl::StatusOr<PutResult>> result;
    putter_.Put(Record{key, "value", 1, clock_.Now() + absl::Hours(1)},
                [&](absl::StatusOr<PutResult> r) {
                  staged_at_result_ = staging_.staged();
                  commits_at_result_ = staging_.commits();
                  result = std::move(r);
                });
    clock_.RunUntilIdle();
    EXPECT_TRUE(result && result->ok());
    return result && result->ok() ? **result : PutResult{};
  }

  net::SimClock clock_;
  net::SimNetwork network_;
  std::unique_ptr<net::SimTransport> holder_transport_, putter_transport_;
  StagingStore staging_;
  storage::MemoryStore memory_;
  Node holder_;
  Node putter_;
  size_t staged_at_result_ = 0;
  int commits_at_result_ = 0;
};

uint64_t StoredSent(const Node& node) {
  return node.stats().messages_out[static_cast<size_t>(MessageType::kStored)];
}

TEST_F(StagingNodeTest, TheHolderAnswersStoredOnlyAfterTheCommit) {
  std::optional<uint64_t> stored_sent_at_commit;
  staging_.OnCommit([&] { stored_sent_at_commit = StoredSent(holder_); });
  PutResult result = Put("durable");
  EXPECT_EQ(stored_sent_at_commit, 0u);
  EXPECT_EQ(StoredSent(holder_), 1u);
  EXPECT_EQ(result.stored, 2);  // The putter itself and the holder.
  EXPECT_EQ(commits_at_result_, 1);
  EXPECT_EQ(staged_at_result_, 0u);
  EXPECT_EQ(holder_.stats().stores_accepted, 1u);
}

TEST_F(StagingNodeTest, AFailedCommitIsAnErrorReplyAndLeavesNoRecord) {
  staging_.FailNextCommit();
  PutResult result = Put("lost");
  EXPECT_EQ(result.stored, 1);  // Only the putter's own copy.
  EXPECT_EQ(result.attempted, 2);
  EXPECT_EQ(holder_.stats().stores_accepted, 0u);
  EXPECT_EQ(holder_.stats().stores_rejected, 1u);
  EXPECT_EQ(staging_.Get("lost", clock_.Now()).status().code(),
            absl::StatusCode::kNotFound);
  // The holder goes on storing.
  EXPECT_EQ(Put("next").stored, 2);
}

}  // namespace
}  // namespace kad::dht

#include "dht/group_committer.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace kad::dht {

GroupCommitter::GroupCommitter(storage::RecordStore& store, net::Clock& clock,
                               GroupCommitOptions options)
    : store_(store), clock_(clock), options_(options) {}

GroupCommitter::~GroupCommitter() {
  if (timer_ != 0) clock_.Cancel(timer_);
}

void GroupCommitter::AfterCommit(Ack ack) {
  if (waiting_.size() >= options_.max_batch) (void)Commit();
  waiting_.push_back(std::move(ack));
  Schedule();
}

absl::StatusOr<storage::PutOutcome> GroupCommitter::Put(
    const storage::Record& record, absl::Time now) {
  absl::StatusOr<storage::PutOutcome> outcome = store_.Put(record, now);
  if (store_.staged() >= options_.max_batch) {
    (void)Commit();
  } else {
    Schedule();
  }
  return outcome;
}

bool GroupCommitter::Remove(std::string_view key) {
  const bool removed = store_.Remove(key);
  Schedule();  // The store may have committed the batch: tell the waiting.
  return removed;
}

size_t GroupCommitter::ExpireSome(absl::Time now, size_t budget) {
  const size_t removed = store_.ExpireSome(now, budget);
  Schedule();
  return removed;
}

absl::Status GroupCommitter::Commit() {
  if (timer_ != 0) {
    clock_.Cancel(timer_);
    timer_ = 0;
  }
  const size_t staged = store_.staged();
  absl::Status commit = store_.Commit();
  // Once per run of failures: a full disk fails every batch.
  if (!commit.ok() && !failing_) {
    spdlog::warn("cannot commit {} stored records; refusing them: {}", staged,
                 commit.ToString());
  } else if (commit.ok() && failing_) {
    spdlog::info("stored records are committed again");
  }
  failing_ = !commit.ok();
  std::vector<Ack> waiting = std::exchange(waiting_, {});
  for (Ack& ack : waiting) ack(commit);
  return commit;
}

void GroupCommitter::Schedule() {
  if (timer_ != 0 || (store_.staged() == 0 && waiting_.empty())) return;
  batch_start_ = clock_.Now();
  seen_ = 0;
  timer_ = clock_.Schedule(absl::ZeroDuration(), [this] { OnTurn(); });
}

void GroupCommitter::OnTurn() {
  timer_ = 0;
  const size_t staged = store_.staged();
  if (staged >= seen_ + 2 && staged < options_.max_batch &&
      clock_.Now() - batch_start_ < options_.max_delay) {
    seen_ = staged;  // Stores are still arriving: look again.
    timer_ = clock_.Schedule(kGatherStep, [this] { OnTurn(); });
    return;
  }
  (void)Commit();
}

}  // namespace kad::dht

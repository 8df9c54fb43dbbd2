// StagingStore: a fake RecordStore that stages its Puts as LmdbStore does
// — served at once, durable only after Commit(), Remove and ExpireSome
// commit first — over a MemoryStore, and whose next commit can be made to
// fail, undoing the batch as a full disk would. For tests of what waits
// for commits (dht/group_committer.h); it passes the record-store
// conformance suite.
#ifndef KAD_TESTS_TESTING_STAGING_STORE_H_
#define KAD_TESTS_TESTING_STAGING_STORE_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "storage/memory_store.h"
#include "storage/record_store.h"

namespace kad::testing {

class StagingStore final : public storage::RecordStore {
 public:
  explicit StagingStore(storage::MemoryStoreOptions options = {})
      : store_(options) {}

  // Makes the next commit fail with ResourceExhausted ("disk full").
  void FailNextCommit() { fail_next_ = true; }
  // Commits attempted, whoever caused them.
  int commits() const { return commits_; }
  // Calls `fn` at each commit attempt, before it ends.
  void OnCommit(absl::AnyInvocable<void()> fn) { on_commit_ = std::move(fn); }

  absl::StatusOr<storage::PutOutcome> Put(const storage::Record& record,
                                          absl::Time now) override {
    std::optional<storage::Record> before = Held(record.key);
    absl::StatusOr<storage::PutOutcome> outcome = store_.Put(record, now);
    if (outcome.ok() && Held(record.key) != before) {
      undo_.try_emplace(record.key, std::move(before));
      ++staged_;
    }
    return outcome;
  }
  absl::StatusOr<storage::Record> Get(std::string_view key,
                                      absl::Time now) const override {
    return store_.Get(key, now);
  }
  bool Remove(std::string_view key) override {
    CommitBatch();
    return store_.Remove(key);
  }
  size_t ExpireSome(absl::Time now, size_t budget) override {
    CommitBatch();
    return store_.ExpireSome(now, budget);
  }
  void ForEach(absl::Time now,
               absl::FunctionRef<void(const storage::Record&)> fn)
      const override {
    store_.ForEach(now, fn);
  }
  storage::StoreStats stats() const override { return store_.stats(); }
  size_t staged() const override { return staged_; }
  absl::Status Commit() override {
    CommitBatch();
    return std::exchange(unreported_, absl::OkStatus());
  }

 private:
  // Returns the record held under `key`, expired or not.
  std::optional<storage::Record> Held(std::string_view key) const {
    auto held = store_.Get(key, absl::InfinitePast());
    if (!held.ok()) return std::nullopt;
    return *std::move(held);
  }

  void CommitBatch() {
    if (staged_ == 0) return;
    ++commits_;
    if (on_commit_) on_commit_();
    if (fail_next_) {
      fail_next_ = false;
      for (auto& [key, before] : undo_) {
        store_.Remove(key);
        if (before) (void)store_.Put(*before, absl::InfinitePast());
      }
      if (unreported_.ok()) {
        unreported_ = absl::ResourceExhaustedError("disk full: injected");
      }
    }
    undo_.clear();
    staged_ = 0;
  }

  storage::MemoryStore store_;
  // What each key staged in the batch held before it: nullopt if nothing.
  absl::flat_hash_map<std::string, std::optional<storage::Record>> undo_;
  size_t staged_ = 0;
  int commits_ = 0;
  bool fail_next_ = false;
  absl::Status unreported_;
  absl::AnyInvocable<void()> on_commit_;
};

}  // namespace kad::testing

#endif  // KAD_TESTS_TESTING_STAGING_STORE_H_

// GroupCommitter: the node's view of its record store. It commits the
// store's staged Puts in groups and holds back the acknowledgements that
// must not go out before the commit.
//
// It is a RecordStore that forwards every call to the node's store. A store
// that stages Puts (storage::RecordStore::staged(); LmdbStore does) gets
// them committed (storage::RecordStore::Commit()) once the stores stop
// coming in bursts: a batch starts with its first staged Put; at the next
// turn of the event loop (a zero-delay timer), then every kGatherStep, it
// is committed unless at least two Puts were staged since the last look
// — so a burst of stores, the datagrams already received, shares one
// fdatasync while a lone store waits only for the next turn — or if it is
// older than `max_delay`. The Put that fills it (`max_batch` Puts) commits
// it at once. (The steps are not zero-delay timers: libuv 1.44 runs a
// zero-delay timer scheduled from a timer at once, before reading any
// datagram.) The loop thus blocks on at most one commit of at most
// `max_batch` Puts at a time, and keeps answering other requests while a
// batch gathers. With a store that stages nothing (MemoryStore) it is a
// plain pass-through: pending() is always false.
//
// A store request is answered "stored" only once its record is durable:
// while pending(), the node parks the answer with AfterCommit(), and the
// next commit calls it with that commit's outcome — OK, or the error that
// undid the batch, which the node turns into an error reply. Staged
// records are served (Get, ForEach) before they are durable: a get may
// see a record that a failed commit then undoes, never the reverse.
//
// Bounds: at most `max_batch` Puts staged and at most `max_batch` parked
// acknowledgements (one past that commits first), each parked one a few
// hundred bytes: what a flood of stores can make the node hold.
//
// Ownership: the store and clock are borrowed and must outlive this.
// Destroying it cancels its timer and destroys the parked acknowledgements
// uncalled (the store commits what is staged when it closes).
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_GROUP_COMMITTER_H_
#define KAD_DHT_GROUP_COMMITTER_H_

#include <cstddef>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "net/clock.h"
#include "storage/record_store.h"

namespace kad::dht {

// How often a gathering batch looks whether more Puts came.
inline constexpr absl::Duration kGatherStep = absl::Milliseconds(1);

struct GroupCommitOptions {
  size_t max_batch = 256;                            // At least 1.
  absl::Duration max_delay = absl::Milliseconds(10);  // At least 0.
};

class GroupCommitter final : public storage::RecordStore {
 public:
  using Ack = absl::AnyInvocable<void(const absl::Status& commit)>;

  GroupCommitter(storage::RecordStore& store, net::Clock& clock,
                 GroupCommitOptions options);
  ~GroupCommitter() override;
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Returns whether an acknowledgement of a Put must wait for the next
  // commit: the store holds staged Puts.
  bool pending() const { return store_.staged() > 0; }

  // Calls `ack` once, after the next commit, with its outcome; never from
  // inside this call.
  void AfterCommit(Ack ack);

  // Forwarded to the store; Put, Remove and ExpireSome then schedule the
  // commit as the class comment says. A Put that fills the batch commits
  // it, calling the parked acknowledgements.
  absl::StatusOr<storage::PutOutcome> Put(const storage::Record& record,
                                          absl::Time now) override;
  absl::StatusOr<storage::Record> Get(std::string_view key,
                                      absl::Time now) const override {
    return store_.Get(key, now);
  }
  bool Remove(std::string_view key) override;
  size_t ExpireSome(absl::Time now, size_t budget) override;
  void ForEach(absl::Time now,
               absl::FunctionRef<void(const storage::Record&)> fn)
      const override {
    store_.ForEach(now, fn);
  }
  storage::StoreStats stats() const override { return store_.stats(); }
  size_t staged() const override { return store_.staged(); }
  // Commits now and calls every parked acknowledgement with the outcome.
  absl::Status Commit() override;

 private:
  // Makes sure a turn is scheduled while anything waits for a commit.
  void Schedule();
  // Runs at each turn of a gathering batch: commits, or waits one more.
  void OnTurn();

  storage::RecordStore& store_;
  net::Clock& clock_;
  GroupCommitOptions options_;
  net::TimerId timer_ = 0;  // The next turn, or 0: no batch gathering.
  absl::Time batch_start_;  // When the gathering batch began.
  size_t seen_ = 0;         // staged() at the last look.
  bool failing_ = false;    // The last commit failed.
  std::vector<Ack> waiting_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_GROUP_COMMITTER_H_

// MemoryStore: the in-memory RecordStore, the embedded default.
//
// Records live in a hash map keyed by record key, with an ordered expiry
// index of (expires, key) beside it, so ExpireSome costs O(budget log n)
// and removes the oldest expiry first (ties in ascending key order, so a
// run is deterministic).
//
// Accounting: stats() counts the records the store holds, and quotas are
// checked against the same numbers. A record that has expired but not yet
// been removed is still held: it is invisible to Get and ForEach, but it
// counts in stats() until one of these removes it:
//  - ExpireSome, oldest expiry first;
//  - a Put under the same key (the expired record counts as absent);
//  - a Put that would otherwise exceed a quota: it first removes expired
//    records, oldest first, until the new record fits (one record's
//    footprint is small, so this removes a bounded handful);
//  - Remove.
// Get and ForEach are const and never remove anything.
//
// Memory: each record's key is held twice (map and expiry index). Byte
// quotas use Record::footprint(), an approximation of that cost.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_STORAGE_MEMORY_STORE_H_
#define KAD_STORAGE_MEMORY_STORE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/record.h"
#include "storage/record_store.h"

namespace kad::storage {

struct MemoryStoreOptions {
  // Most records held at once; a Put of a new key beyond it is refused.
  size_t max_records = 1'000'000;
  // Most bytes held at once, as the sum of Record::footprint(); a Put that
  // would exceed it (new key or replacement) is refused.
  size_t max_bytes = size_t{256} << 20;
};

class MemoryStore : public RecordStore {
 public:
  explicit MemoryStore(MemoryStoreOptions options = {});

  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // See RecordStore. ResourceExhausted messages name the quota
  // (max_records or max_bytes); on refusal the store is unchanged except
  // that expired records may have been removed.
  absl::StatusOr<PutOutcome> Put(const Record& record, absl::Time now) override;
  absl::StatusOr<Record> Get(std::string_view key,
                             absl::Time now) const override;
  // Returns true if a record was held under `key`, even an expired one.
  bool Remove(std::string_view key) override;
  size_t ExpireSome(absl::Time now, size_t budget) override;
  // Costs O(n log n) time and O(n) pointers per call: it sorts a snapshot
  // of the live records by key, because the map itself is unordered.
  // `fn` must not modify the store.
  void ForEach(absl::Time now,
               absl::FunctionRef<void(const Record&)> fn) const override;
  StoreStats stats() const override;

  const MemoryStoreOptions& options() const { return options_; }

 private:
  using ExpiryEntry = std::pair<absl::Time, std::string>;

  // Applies the version order to a live record already held under the key.
  absl::StatusOr<PutOutcome> PutOverLive(const Record& record, Record& held,
                                         absl::Time now);
  // Stores `record` under a key that holds nothing.
  absl::StatusOr<PutOutcome> PutNew(const Record& record, absl::Time now);
  // Removes expired records, oldest first, until holding `extra_records`
  // more records and `bytes_added - bytes_released` more bytes fits both
  // quotas. Returns whether it fits.
  bool MakeRoom(absl::Time now, size_t extra_records, size_t bytes_released,
                size_t bytes_added);
  bool Fits(size_t extra_records, size_t bytes_released,
            size_t bytes_added) const;
  // Moves `held`'s expiry index entry to `expires`.
  void SetExpiry(Record& held, absl::Time expires);
  // Erases the record at `it` and its index entry, updating bytes_.
  void Erase(absl::flat_hash_map<std::string, Record>::iterator it);

  MemoryStoreOptions options_;
  absl::flat_hash_map<std::string, Record> records_;
  absl::btree_set<ExpiryEntry> expiry_;  // One entry per held record.
  size_t bytes_ = 0;                     // Sum of footprint() over records_.
};

}  // namespace kad::storage

#endif  // KAD_STORAGE_MEMORY_STORE_H_

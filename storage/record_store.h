// RecordStore: the seam between the DHT and where records are kept.
//
// Implementations: MemoryStore (memory_store.h, the embedded default) and
// LmdbStore (lmdb_store.h, persistent). Every implementation passes the typed
// conformance suite in tests/unit/record_store_conformance_test.cc.
//
// Semantics every store shares:
//  - Per key, keep only the record that wins the version order in
//    storage/record.h (Supersedes): a Put of an older version leaves the
//    store unchanged and reports kKeptExisting. A Put of the same version
//    (equal seq and value) with a later `expires` extends the stored
//    expiry — that is how a publisher's republish keeps a record alive —
//    and also reports kKeptExisting.
//  - A record whose `expires` <= now is invisible to Get and ForEach, and
//    a Put of an already-expired record is refused (InvalidArgument).
//  - Quotas refuse new data with ResourceExhausted; nothing is ever
//    evicted silently to make room.
//  - Expiry is incremental: ExpireSome removes at most `budget` records,
//    so no call pauses in proportion to the store size.
//  - Group commit: a store may stage the changes of Put — every call sees
//    them at once — and make them durable later, many in one commit
//    (staged(), Commit()). A store that makes each change as durable as
//    it gets before returning (MemoryStore, which keeps nothing across
//    restarts) stages nothing: staged() stays 0 and Commit() is OK. Who
//    acknowledges a Put to someone else waits for the Commit() after it
//    (dht/group_committer.h does this for the node).
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_STORAGE_RECORD_STORE_H_
#define KAD_STORAGE_RECORD_STORE_H_

#include <cstddef>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/record.h"

namespace kad::storage {

enum class PutOutcome {
  kStored,        // The key was new (or its record had expired).
  kReplaced,      // An older version was replaced.
  kKeptExisting,  // The stored version is newer or identical; unchanged.
};

struct StoreStats {
  size_t records = 0;
  size_t bytes = 0;  // Sum of Record::footprint().
};

class RecordStore {
 public:
  virtual ~RecordStore() = default;

  // Stores `record` under the version order. Errors: InvalidArgument for
  // a record that is too large or already expired; ResourceExhausted when
  // a quota would be exceeded.
  virtual absl::StatusOr<PutOutcome> Put(const Record& record,
                                         absl::Time now) = 0;

  // Returns the live record for `key`, or NotFound.
  virtual absl::StatusOr<Record> Get(std::string_view key,
                                     absl::Time now) const = 0;

  // Removes `key` if present; returns whether it was.
  virtual bool Remove(std::string_view key) = 0;

  // Removes up to `budget` records whose expiry is <= now, oldest expiry
  // first. Returns how many were removed.
  virtual size_t ExpireSome(absl::Time now, size_t budget) = 0;

  // Calls `fn` for every live record, in ascending key order.
  virtual void ForEach(absl::Time now,
                       absl::FunctionRef<void(const Record&)> fn) const = 0;

  // Counts staged changes too.
  virtual StoreStats stats() const = 0;

  // Returns how many Puts are staged and not yet durable.
  virtual size_t staged() const { return 0; }

  // Makes the staged changes durable. Returns OK if every Put that
  // returned OK since the previous Commit() is durable. Otherwise returns
  // the error: the changes staged since the last successful commit are
  // undone (nothing committed before is lost) and the store stays usable.
  // A store may also commit on its own (LmdbStore does before a Remove or
  // ExpireSome); Commit() then reports that commit's error too.
  virtual absl::Status Commit() { return absl::OkStatus(); }
};

}  // namespace kad::storage

#endif  // KAD_STORAGE_RECORD_STORE_H_

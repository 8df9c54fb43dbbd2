// LmdbStore: the persistent RecordStore, used for `kad node --data-dir`.
//
// Same semantics as MemoryStore (storage/memory_store.h), including how
// expired-but-held records are accounted and when they are removed, with
// the records kept in an LMDB environment inside the data dir so that a
// node restarted on the same dir has them back.
//
// Durability, by group commit: a Put is staged in one long write
// transaction, the batch, and is made durable by the next Commit(), which
// commits the whole batch with LMDB's synchronous flush (never
// MDB_NOSYNC): one fdatasync for many Puts. Each Put runs in a child
// transaction of the batch, so a refused or failed Put leaves the store
// (the batch included) as it was. Staged records are served at once: Get,
// ForEach and stats() read through the batch. A Put that returned OK and
// was followed by a Commit() that returned OK is on disk: `kill -9` (or a
// power cut, as far as the file system honours fdatasync) at any moment
// loses none of them; a kill before the Commit() loses the batch, nothing
// older. A failed commit (disk full) undoes the batch: the store is back
// to the last commit, and Commit() returns the error. Remove, ExpireSome
// and a publication write commit the batch first (Commit() then reports
// that commit's outcome), and so does the destructor.
//
// Full map or disk: a Put that needs space LMDB cannot get is refused with
// ResourceExhausted ("disk full: ..."); Get and ForEach keep working. A
// batch whose Puts fit may still not fit its commit (LMDB takes fresh pages
// to record the ones it frees): Commit() then fails as "disk full" and the
// batch is undone; commit smaller batches near a full map. A
// Remove or ExpireSome that finds the map full is retried once with the
// map widened by kRemovalHeadroom (LMDB's copy-on-write needs fresh pages
// to free old ones), so a full store can always be drained; the file may
// thereby outgrow map_size by the pages those removals took.
//
// Exclusivity: Open takes an advisory lock (flock) on DIR/LOCK and holds
// it for the store's lifetime, so a second store on the same dir, in this
// process or another, is refused. Whatever else a node keeps in the dir
// is covered by the same lock while its store is open.
//
// On disk: DIR/LOCK and one LMDB environment, DIR/records.mdb, holding
// the records, an expiry index (so ExpireSome walks oldest first without
// scanning), the counts behind stats() and the node's own publications
// (publications(), storage/lmdb_publication_store.h);
// storage/lmdb_format.h has the byte layout. A dir written with another kLmdbStoreFormatVersion is
// refused by Open.
//
// Times are kept to the microsecond: an `expires` with a finer part is
// rounded up, so a record accepted as live is stored as live (Get returns
// the rounded time).
//
// Not thread-safe; call from the loop thread. Do not use a store across
// fork(): open it in the process that uses it.
#ifndef KAD_STORAGE_LMDB_STORE_H_
#define KAD_STORAGE_LMDB_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/lmdb_format.h"  // kLmdbStoreFormatVersion
#include "storage/publication_store.h"
#include "storage/record.h"
#include "storage/record_store.h"

struct MDB_env;  // From lmdb.h, kept out of this header.
struct MDB_txn;

namespace kad::storage {

class LmdbPublicationStore;

// How far a removal may widen a full map; see "Full map or disk" above.
inline constexpr size_t kRemovalHeadroom = size_t{16} << 20;

struct LmdbStoreOptions {
  // Most records held at once; as MemoryStoreOptions::max_records.
  size_t max_records = 1'000'000;
  // Most bytes held, as the sum of Record::footprint(); as
  // MemoryStoreOptions::max_bytes.
  size_t max_bytes = size_t{256} << 20;
  // Size of LMDB's memory map: the most the data file may grow to. It
  // costs address space, not disk; the file grows as used. LMDB needs a
  // few times the footprint bytes (B-tree pages, the expiry index, free
  // pages of copy-on-write), so keep this well above max_bytes. A Put
  // that would outgrow it is refused with ResourceExhausted ("disk
  // full"); raise it and reopen. A map smaller than the existing file is
  // widened to the file's size.
  size_t map_size = size_t{1} << 30;
};

class LmdbStore : public RecordStore {
 public:
  // Opens (creating if needed) the store in `dir`. Errors, each one line
  // naming the dir:
  //  - PermissionDenied / Unavailable: the dir or its files cannot be
  //    created or opened;
  //  - FailedPrecondition "data dir DIR is in use by another kad node";
  //  - FailedPrecondition naming the format version found and the one
  //    expected, for a dir written by an incompatible kad.
  static absl::StatusOr<std::unique_ptr<LmdbStore>> Open(
      const std::string& dir, LmdbStoreOptions options = {});

  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  // See RecordStore and MemoryStore. Beyond them, Put returns
  // ResourceExhausted with "disk full" in the message when the map or the
  // device is full, and Unavailable for other I/O failures; the store
  // stays usable. Get returns DataLoss for a record that does not decode
  // (only possible if the file was altered outside kad).
  absl::StatusOr<PutOutcome> Put(const Record& record, absl::Time now) override;
  absl::StatusOr<Record> Get(std::string_view key,
                             absl::Time now) const override;
  // Returns true if a record was held under `key`, even an expired one,
  // and its removal was committed (false if it could not be).
  bool Remove(std::string_view key) override;
  // Removes up to `budget` records in one write transaction. If that
  // transaction cannot be committed, removes nothing and returns 0.
  size_t ExpireSome(absl::Time now, size_t budget) override;
  // Visits records in ascending unsigned byte order of key, inside one
  // read transaction; records that do not decode are skipped, and if the
  // transaction cannot begin nothing is visited. `fn` may read the store
  // but must not modify it.
  void ForEach(absl::Time now,
               absl::FunctionRef<void(const Record&)> fn) const override;
  StoreStats stats() const override { return stats_; }
  size_t staged() const override { return staged_; }
  absl::Status Commit() override;

  // Returns the publications kept in the same environment (the records
  // this node put and republishes); valid as long as this store.
  PublicationStore& publications();

  const std::string& dir() const { return dir_; }
  const LmdbStoreOptions& options() const { return options_; }

 private:
  class Writer;  // One write transaction and the counts it would commit.
  friend class LmdbPublicationStore;  // Shares env_, Error(), CommitBatch().

  LmdbStore(std::string dir, LmdbStoreOptions options, int lock_fd);

  // Commits the batch, if one is open; on failure, goes back to the last
  // commit and keeps the error for Commit() to report.
  absl::Status CommitBatch();
  // Returns the batch, beginning it if none is open.
  absl::StatusOr<MDB_txn*> Batch();

  // Creates and opens the environment and its databases, then checks or
  // initialises the meta database and loads stats_.
  absl::Status OpenEnvironment();
  absl::Status LoadOrInitMeta(Writer& writer);
  // Returns the Status for LMDB or errno code `rc` from `what`, naming
  // the dir: "disk full" ResourceExhausted, PermissionDenied or
  // Unavailable.
  absl::Status Error(int rc, const char* what) const;
  // Runs `removal` (one write transaction); if it fails as full, runs it
  // once more with the map widened by kRemovalHeadroom.
  absl::Status WithRemovalHeadroom(absl::FunctionRef<absl::Status()> removal);
  absl::StatusOr<PutOutcome> PutOverLive(Writer& writer, const Record& record,
                                         const Record& held, absl::Time now);
  absl::StatusOr<PutOutcome> PutNew(Writer& writer, const Record& record,
                                    absl::Time now);
  // Removes expired records, oldest first, until the change fits both
  // quotas. Returns whether it fits.
  absl::StatusOr<bool> MakeRoom(Writer& writer, absl::Time now,
                                size_t extra_records, size_t bytes_released,
                                size_t bytes_added) const;
  // Returns the record under `key` as of `txn`, held or expired; nullopt
  // if absent.
  absl::StatusOr<std::optional<Record>> Find(MDB_txn* txn,
                                             std::string_view key) const;

  std::string dir_;
  LmdbStoreOptions options_;
  int lock_fd_;  // Holds the flock on DIR/LOCK; closed by the destructor.
  MDB_env* env_ = nullptr;
  unsigned int records_db_ = 0;  // MDB_dbi handles.
  unsigned int expiry_db_ = 0;
  unsigned int meta_db_ = 0;
  unsigned int publications_db_ = 0;
  StoreStats stats_;  // With the batch; committed, mirrors the meta database.
  StoreStats committed_stats_;  // As last committed.
  MDB_txn* batch_ = nullptr;    // The open batch, or null.
  size_t staged_ = 0;           // Puts in the batch.
  absl::Status unreported_;     // The first commit failure since Commit().
  std::unique_ptr<LmdbPublicationStore> publications_;
};

}  // namespace kad::storage

#endif  // KAD_STORAGE_LMDB_STORE_H_

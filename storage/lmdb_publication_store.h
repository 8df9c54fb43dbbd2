// LmdbPublicationStore: the persistent PublicationStore, kept in the same
// LMDB environment as a data dir's records (its "publications" database,
// storage/lmdb_format.h), so that a node restarted on the same dir goes on
// republishing the records it put.
//
// It is part of its LmdbStore: made by it, reached through
// LmdbStore::publications(), covered by the same lock, and valid as long
// as that store.
//
// Durability: a Put that returned OK is on disk; a failed Put leaves the
// store unchanged. Put commits its LmdbStore's batch of staged records
// first (LMDB has one writer at a time), then its own transaction. Full map or disk: Put is refused with
// ResourceExhausted ("disk full: ..."), ForEach keeps working.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_STORAGE_LMDB_PUBLICATION_STORE_H_
#define KAD_STORAGE_LMDB_PUBLICATION_STORE_H_

#include <cstddef>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "storage/publication_store.h"

namespace kad::storage {

class LmdbStore;

class LmdbPublicationStore final : public PublicationStore {
 public:
  LmdbPublicationStore(const LmdbPublicationStore&) = delete;
  LmdbPublicationStore& operator=(const LmdbPublicationStore&) = delete;

  // See PublicationStore. Beyond it, Put returns InvalidArgument for a
  // record ValidateRecordSize refuses (LMDB refuses empty keys), and
  // Unavailable for I/O failures other than a full disk.
  absl::Status Put(const Publication& publication) override;
  // Visits in ascending unsigned byte order of key, inside one read
  // transaction; entries that do not decode are skipped, and if the
  // transaction cannot begin nothing is visited.
  void ForEach(absl::FunctionRef<void(const Publication&)> fn) const override;
  // Returns 0 if the count cannot be read.
  size_t size() const override;

 private:
  friend class LmdbStore;
  explicit LmdbPublicationStore(LmdbStore& store) : store_(store) {}

  LmdbStore& store_;  // Owns this; its environment and lock.
};

}  // namespace kad::storage

#endif  // KAD_STORAGE_LMDB_PUBLICATION_STORE_H_

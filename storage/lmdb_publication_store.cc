#include "storage/lmdb_publication_store.h"

#include <lmdb.h>

#include <optional>
#include <string>
#include <utility>

#include "storage/lmdb_format.h"
#include "storage/lmdb_store.h"
#include "storage/lmdb_txn.h"

namespace kad::storage {

using lmdb_txn::TxnGuard;
using lmdb_txn::Val;

absl::Status LmdbPublicationStore::Put(const Publication& publication) {
  const Record& record = publication.record;
  if (absl::Status valid = ValidateRecordSize(record); !valid.ok()) {
    return valid;
  }
  (void)store_.CommitBatch();  // One writer at a time; kept for Commit().
  const std::string encoded = lmdb_format::EncodePublicationValue(publication);
  MDB_val key = Val(record.key), value = Val(encoded);
  TxnGuard write;
  int rc = mdb_txn_begin(store_.env_, nullptr, 0, &write.txn);
  if (rc != MDB_SUCCESS) return store_.Error(rc, "cannot begin a write");
  rc = mdb_put(write.txn, store_.publications_db_, &key, &value, 0);
  if (rc != MDB_SUCCESS) return store_.Error(rc, "cannot keep a publication");
  rc = mdb_txn_commit(std::exchange(write.txn, nullptr));  // Frees the txn.
  if (rc != MDB_SUCCESS) return store_.Error(rc, "cannot commit");
  return absl::OkStatus();
}

void LmdbPublicationStore::ForEach(
    absl::FunctionRef<void(const Publication&)> fn) const {
  lmdb_txn::ForEachEntry(store_.env_, nullptr, store_.publications_db_,
                         [&](std::string_view key, std::string_view value) {
                           std::optional<Publication> publication =
                               lmdb_format::DecodePublication(key, value);
                           if (publication.has_value()) fn(*publication);
                         });
}

size_t LmdbPublicationStore::size() const {
  TxnGuard read;
  MDB_stat stat;
  if (mdb_txn_begin(store_.env_, nullptr, MDB_RDONLY, &read.txn) !=
          MDB_SUCCESS ||
      mdb_stat(read.txn, store_.publications_db_, &stat) != MDB_SUCCESS) {
    return 0;
  }
  return stat.ms_entries;
}

}  // namespace kad::storage

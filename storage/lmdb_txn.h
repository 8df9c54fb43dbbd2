// Small helpers over LMDB's C API shared by LmdbStore and
// LmdbPublicationStore: byte views in and out of MDB_val, guards that
// abort a transaction or close a cursor on every path out of a scope, and
// a walk over one database.
// Internal to storage/: include only from .cc files, since it brings in
// lmdb.h.
#ifndef KAD_STORAGE_LMDB_TXN_H_
#define KAD_STORAGE_LMDB_TXN_H_

#include <lmdb.h>

#include <string_view>

#include "absl/functional/function_ref.h"

namespace kad::storage::lmdb_txn {

inline MDB_val Val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

inline std::string_view View(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// Aborts `txn` when destroyed unless it was released (set to null) first,
// as a commit does.
struct TxnGuard {
  MDB_txn* txn = nullptr;
  TxnGuard() = default;
  TxnGuard(const TxnGuard&) = delete;
  TxnGuard& operator=(const TxnGuard&) = delete;
  ~TxnGuard() {
    if (txn != nullptr) mdb_txn_abort(txn);
  }
};

// Closes `cursor` when destroyed; declare it after the TxnGuard of its
// transaction, so it closes first.
struct CursorGuard {
  MDB_cursor* cursor = nullptr;
  CursorGuard() = default;
  CursorGuard(const CursorGuard&) = delete;
  CursorGuard& operator=(const CursorGuard&) = delete;
  ~CursorGuard() {
    if (cursor != nullptr) mdb_cursor_close(cursor);
  }
};

// Calls `fn` for every entry of database `dbi`, in ascending unsigned byte
// order of key, inside `txn` if not null (an open write transaction), else
// inside one read transaction; visits nothing if that transaction cannot
// begin. The views are valid only during the call.
inline void ForEachEntry(
    MDB_env* env, MDB_txn* txn, MDB_dbi dbi,
    absl::FunctionRef<void(std::string_view key, std::string_view value)> fn) {
  TxnGuard read;
  CursorGuard guard;  // Declared after `read`, so closed before it aborts.
  if (txn == nullptr &&
      mdb_txn_begin(env, nullptr, MDB_RDONLY, &read.txn) != MDB_SUCCESS) {
    return;
  }
  if (mdb_cursor_open(txn != nullptr ? txn : read.txn, dbi, &guard.cursor) !=
      MDB_SUCCESS) {
    return;
  }
  MDB_val key, value;
  for (int rc = mdb_cursor_get(guard.cursor, &key, &value, MDB_FIRST);
       rc == MDB_SUCCESS;
       rc = mdb_cursor_get(guard.cursor, &key, &value, MDB_NEXT)) {
    fn(View(key), View(value));
  }
}

}  // namespace kad::storage::lmdb_txn

#endif  // KAD_STORAGE_LMDB_TXN_H_

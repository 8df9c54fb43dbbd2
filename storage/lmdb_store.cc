#include "storage/lmdb_store.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/lmdb_format.h"
#include "storage/lmdb_publication_store.h"
#include "storage/lmdb_txn.h"

namespace kad::storage {
namespace {

using lmdb_format::DecodeBigEndian;
using lmdb_format::EncodeBigEndian;
using lmdb_txn::CursorGuard;
using lmdb_txn::TxnGuard;
using lmdb_txn::Val;
using lmdb_txn::View;

// Maps an LMDB or errno code to a Status with a one-line message.
absl::Status ErrorStatus(int rc, const std::string& what) {
  const std::string message = absl::StrCat(what, ": ", mdb_strerror(rc));
  if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT || rc == EFBIG) {
    return absl::ResourceExhaustedError(absl::StrCat("disk full: ", message));
  }
  if (rc == EACCES || rc == EPERM || rc == EROFS) {
    return absl::PermissionDeniedError(message);
  }
  return absl::UnavailableError(message);
}

// Opens and flocks DIR/LOCK; returns its descriptor.
absl::StatusOr<int> LockDir(const std::string& dir) {
  const std::string path = dir + "/LOCK";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrorStatus(errno, "cannot open lock file " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
  const int err = errno;
  ::close(fd);
  if (err != EWOULDBLOCK) return ErrorStatus(err, "cannot lock " + path);
  return absl::FailedPreconditionError(
      absl::StrCat("data dir ", dir, " is in use by another kad node"));
}

}  // namespace

class LmdbStore::Writer {
 public:
  explicit Writer(LmdbStore& store) : stats(store.stats_), store_(store) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Begins a write transaction: a child of `parent` (the batch), or a
  // top-level one committed on its own.
  absl::Status Begin(MDB_txn* parent = nullptr) {
    parent_ = parent;
    return Check(mdb_txn_begin(store_.env_, parent, 0, &guard_.txn),
                 "cannot begin a write");
  }
  MDB_txn* txn() const { return guard_.txn; }
  absl::Status Check(int rc, const char* what) const {
    return rc == MDB_SUCCESS ? absl::OkStatus() : store_.Error(rc, what);
  }
  absl::Status PutMeta(std::string_view key, uint64_t value, int bytes) {
    const std::string encoded = EncodeBigEndian(value, bytes);
    MDB_val k = Val(key), v = Val(encoded);
    return Check(mdb_put(txn(), store_.meta_db_, &k, &v, 0),
                 "cannot write the meta database");
  }
  absl::Status Insert(const Record& record);
  absl::Status Erase(const Record& held);
  // Removes the index entry with the oldest expiry, and its record, if that
  // expiry is <= now. Returns whether there was one.
  absl::StatusOr<bool> EraseOldestExpired(absl::Time now);
  // Writes `stats` to the meta database, commits (into the batch, for a
  // child), and publishes `stats`.
  absl::Status Commit();
  absl::Status ReplaceAndCommit(const Record& held, const Record& updated) {
    absl::Status s = Erase(held);
    if (s.ok()) s = Insert(updated);
    return s.ok() ? Commit() : s;
  }

  StoreStats stats;  // The store's counts as of this transaction.

 private:
  LmdbStore& store_;
  MDB_txn* parent_ = nullptr;
  TxnGuard guard_;
};

absl::Status LmdbStore::Writer::Insert(const Record& record) {
  const std::string encoded = lmdb_format::EncodeRecordValue(record);
  const std::string index = lmdb_format::ExpiryKey(record.expires, record.key);
  MDB_val key = Val(record.key), value = Val(encoded);
  MDB_val index_key = Val(index), empty = Val("");
  absl::Status s = Check(mdb_put(txn(), store_.records_db_, &key, &value, 0),
                         "cannot store the record");
  if (s.ok()) {
    s = Check(mdb_put(txn(), store_.expiry_db_, &index_key, &empty, 0),
              "cannot store the record");
  }
  if (s.ok()) stats = {stats.records + 1, stats.bytes + record.footprint()};
  return s;
}

absl::Status LmdbStore::Writer::Erase(const Record& held) {
  const std::string index = lmdb_format::ExpiryKey(held.expires, held.key);
  MDB_val key = Val(held.key), index_key = Val(index);
  absl::Status s = Check(mdb_del(txn(), store_.records_db_, &key, nullptr),
                         "cannot delete a record");
  if (s.ok()) {  // A missing index entry is not worth failing over.
    const int rc = mdb_del(txn(), store_.expiry_db_, &index_key, nullptr);
    if (rc != MDB_NOTFOUND) s = Check(rc, "cannot delete a record");
  }
  if (s.ok()) stats = {stats.records - 1, stats.bytes - held.footprint()};
  return s;
}

absl::StatusOr<bool> LmdbStore::Writer::EraseOldestExpired(absl::Time now) {
  CursorGuard guard;
  MDB_val index, empty;
  int rc = mdb_cursor_open(txn(), store_.expiry_db_, &guard.cursor);
  if (rc == MDB_SUCCESS)
    rc = mdb_cursor_get(guard.cursor, &index, &empty, MDB_FIRST);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != MDB_SUCCESS) return Check(rc, "cannot read the expiry index");
  const std::optional<lmdb_format::ExpiryEntry> entry =
      lmdb_format::DecodeExpiryKey(View(index));
  if (!entry.has_value()) {
    return absl::DataLossError(absl::StrCat(
        "expiry index in data dir ", store_.dir_, " has a damaged entry"));
  }
  if (entry->expires > now) return false;
  absl::StatusOr<std::optional<Record>> held = store_.Find(txn(), entry->key);
  if (!held.ok()) return held.status();
  absl::Status s =
      held->has_value() && (*held)->expires == entry->expires
          ? Erase(**held)
          // An entry left without its record: drop it.
          : Check(mdb_cursor_del(guard.cursor, 0), "cannot expire");
  if (!s.ok()) return s;
  return true;
}

absl::Status LmdbStore::Writer::Commit() {
  absl::Status s = PutMeta(lmdb_format::kRecordsKey, stats.records, 8);
  if (s.ok()) s = PutMeta(lmdb_format::kBytesKey, stats.bytes, 8);
  if (!s.ok()) return s;
  MDB_txn* txn = std::exchange(guard_.txn, nullptr);  // Freed by commit.
  s = Check(mdb_txn_commit(txn), "cannot commit");
  if (!s.ok()) return s;
  store_.stats_ = stats;
  if (parent_ == nullptr) {
    store_.committed_stats_ = stats;
  } else {
    ++store_.staged_;
  }
  return s;
}

LmdbStore::LmdbStore(std::string dir, LmdbStoreOptions options, int lock_fd)
    : dir_(std::move(dir)),
      options_(options),
      lock_fd_(lock_fd),
      publications_(new LmdbPublicationStore(*this)) {}

LmdbStore::~LmdbStore() {
  if (env_ != nullptr) {
    (void)CommitBatch();  // Nobody is left to hear of a failure.
    mdb_env_close(env_);
  }
  ::close(lock_fd_);  // Releases the lock, after LMDB is done with the dir.
}

PublicationStore& LmdbStore::publications() { return *publications_; }

absl::StatusOr<MDB_txn*> LmdbStore::Batch() {
  if (batch_ == nullptr) {
    const int rc = mdb_txn_begin(env_, nullptr, 0, &batch_);
    if (rc != MDB_SUCCESS) {
      batch_ = nullptr;
      return Error(rc, "cannot begin a write");
    }
  }
  return batch_;
}

absl::Status LmdbStore::CommitBatch() {
  if (batch_ == nullptr) return absl::OkStatus();
  staged_ = 0;
  // Frees the batch, committed or not.
  const int rc = mdb_txn_commit(std::exchange(batch_, nullptr));
  if (rc == MDB_SUCCESS) {
    committed_stats_ = stats_;
    return absl::OkStatus();
  }
  stats_ = committed_stats_;
  absl::Status s = Error(rc, "cannot commit");
  if (unreported_.ok()) unreported_ = s;
  return s;
}

absl::Status LmdbStore::Commit() {
  (void)CommitBatch();  // A failure is kept in unreported_.
  return std::exchange(unreported_, absl::OkStatus());
}

absl::StatusOr<std::unique_ptr<LmdbStore>> LmdbStore::Open(
    const std::string& dir, LmdbStoreOptions options) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return ErrorStatus(error.value(), "cannot create data dir " + dir);
  absl::StatusOr<int> lock_fd = LockDir(dir);
  if (!lock_fd.ok()) return lock_fd.status();
  std::unique_ptr<LmdbStore> store(new LmdbStore(dir, options, *lock_fd));
  if (absl::Status s = store->OpenEnvironment(); !s.ok()) return s;
  return store;
}

absl::Status LmdbStore::Error(int rc, const char* what) const {
  std::string context = absl::StrCat(what, " in data dir ", dir_);
  if (rc == MDB_MAP_FULL) {
    absl::StrAppend(&context, " (map_size ", options_.map_size, " bytes)");
  }
  return ErrorStatus(rc, context);
}

absl::Status LmdbStore::OpenEnvironment() {
  const std::string path = dir_ + "/records.mdb";
  int rc = mdb_env_create(&env_);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(env_, 4);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(env_, options_.map_size);
  // MDB_NOTLS lets a Get run inside ForEach's read transaction. No
  // MDB_NOSYNC: a commit returns only once the data is on disk.
  if (rc == MDB_SUCCESS) {
    rc = mdb_env_open(env_, path.c_str(), MDB_NOSUBDIR | MDB_NOTLS, 0644);
  }
  if (rc != MDB_SUCCESS) return Error(rc, "cannot open records.mdb");
  Writer writer(*this);
  absl::Status s = writer.Begin();
  for (auto [name, dbi] :
       {std::pair{"records", &records_db_}, std::pair{"expiry", &expiry_db_},
        std::pair{"meta", &meta_db_},
        std::pair{"publications", &publications_db_}}) {
    if (s.ok()) {
      s = writer.Check(mdb_dbi_open(writer.txn(), name, MDB_CREATE, dbi),
                       "cannot open records.mdb");
    }
  }
  if (s.ok()) s = LoadOrInitMeta(writer);
  return s.ok() ? writer.Commit() : s;  // Sets committed_stats_.
}

absl::Status LmdbStore::LoadOrInitMeta(Writer& writer) {
  auto read = [&](std::string_view name, size_t size) {
    MDB_val key = Val(name), value;
    const int rc = mdb_get(writer.txn(), meta_db_, &key, &value);
    return rc == MDB_SUCCESS ? DecodeBigEndian(View(value), size)
                             : std::nullopt;
  };
  MDB_stat records;
  const int rc = mdb_stat(writer.txn(), records_db_, &records);
  if (rc != MDB_SUCCESS) return Error(rc, "cannot open records.mdb");
  const std::optional<uint64_t> version = read(lmdb_format::kVersionKey, 4);
  if (!version.has_value() && records.ms_entries == 0) {  // A new store.
    writer.stats = StoreStats{};
    return writer.PutMeta(lmdb_format::kVersionKey, kLmdbStoreFormatVersion, 4);
  }
  if (version != kLmdbStoreFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", dir_, " holds record format version ",
                     version.has_value() ? absl::StrCat(*version) : "unknown",
                     "; this kad reads version ", kLmdbStoreFormatVersion));
  }
  const std::optional<uint64_t> count = read(lmdb_format::kRecordsKey, 8);
  const std::optional<uint64_t> bytes = read(lmdb_format::kBytesKey, 8);
  if (!count.has_value() || !bytes.has_value()) {
    return absl::DataLossError(
        absl::StrCat("meta database in data dir ", dir_, " lacks its counts"));
  }
  writer.stats = StoreStats{*count, *bytes};
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Record>> LmdbStore::Find(
    MDB_txn* txn, std::string_view key) const {
  // No such key can be held; LMDB would also refuse an empty one.
  if (key.empty() || key.size() > kMaxKeyBytes) return std::nullopt;
  MDB_val k = Val(key), v;
  const int rc = mdb_get(txn, records_db_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != MDB_SUCCESS) return Error(rc, "cannot read a record");
  std::optional<Record> record = lmdb_format::DecodeRecord(key, View(v));
  if (!record.has_value()) {
    return absl::DataLossError(
        absl::StrCat("a record in data dir ", dir_, " does not decode"));
  }
  return record;
}

absl::StatusOr<PutOutcome> LmdbStore::Put(const Record& record,
                                          absl::Time now) {
  if (absl::Status valid = ValidateRecordSize(record); !valid.ok()) {
    return valid;
  }
  if (record.expires <= now) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record has already expired: expires ",
        absl::FormatTime(absl::RFC3339_full, record.expires,
                         absl::UTCTimeZone()),
        " is not after now ",
        absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone())));
  }
  absl::StatusOr<MDB_txn*> batch = Batch();
  if (!batch.ok()) return batch.status();
  Writer writer(*this);
  if (absl::Status s = writer.Begin(*batch); !s.ok()) return s;
  absl::StatusOr<std::optional<Record>> held = Find(writer.txn(), record.key);
  if (!held.ok()) return held.status();
  if (held->has_value() && (*held)->expires > now) {
    return PutOverLive(writer, record, **held, now);
  }
  if (held->has_value()) {  // Expired but not yet removed: counts as absent.
    if (absl::Status s = writer.Erase(**held); !s.ok()) return s;
  }
  return PutNew(writer, record, now);
}

absl::StatusOr<PutOutcome> LmdbStore::PutOverLive(Writer& writer,
                                                  const Record& record,
                                                  const Record& held,
                                                  absl::Time now) {
  if (Supersedes(record, held)) {
    const size_t released = held.footprint();
    const size_t added = record.footprint();
    // `held` is live, so MakeRoom never erases it.
    absl::StatusOr<bool> fits = MakeRoom(writer, now, 0, released, added);
    if (!fits.ok()) return fits.status();
    if (!*fits) {
      return absl::ResourceExhaustedError(
          absl::StrCat("replacing the record would bring the store to ",
                       writer.stats.bytes - released + added,
                       " bytes; max_bytes is ", options_.max_bytes));
    }
    absl::Status s = writer.ReplaceAndCommit(held, record);
    if (!s.ok()) return s;
    return PutOutcome::kReplaced;
  }
  if (record.seq == held.seq && record.value == held.value &&
      record.expires > held.expires) {
    Record extended = held;  // A republish keeps the record alive.
    extended.expires = record.expires;
    if (absl::Status s = writer.ReplaceAndCommit(held, extended); !s.ok()) {
      return s;
    }
  }
  return PutOutcome::kKeptExisting;
}

absl::StatusOr<PutOutcome> LmdbStore::PutNew(Writer& writer,
                                             const Record& record,
                                             absl::Time now) {
  const size_t added = record.footprint();
  absl::StatusOr<bool> fits = MakeRoom(writer, now, 1, 0, added);
  if (!fits.ok()) return fits.status();
  if (!*fits && writer.stats.records + 1 > options_.max_records) {
    return absl::ResourceExhaustedError(
        absl::StrCat("store holds ", writer.stats.records,
                     " records; max_records is ", options_.max_records));
  }
  if (!*fits) {
    return absl::ResourceExhaustedError(
        absl::StrCat("store holds ", writer.stats.bytes, " bytes; adding ",
                     added, " would exceed max_bytes of ", options_.max_bytes));
  }
  absl::Status s = writer.Insert(record);
  if (s.ok()) s = writer.Commit();
  if (!s.ok()) return s;
  return PutOutcome::kStored;
}

absl::StatusOr<bool> LmdbStore::MakeRoom(Writer& writer, absl::Time now,
                                         size_t extra_records,
                                         size_t bytes_released,
                                         size_t bytes_added) const {
  // bytes_released is part of writer.stats.bytes: no wrap-around.
  while (writer.stats.records + extra_records > options_.max_records ||
         writer.stats.bytes - bytes_released + bytes_added >
             options_.max_bytes) {
    absl::StatusOr<bool> erased = writer.EraseOldestExpired(now);
    if (!erased.ok() || !*erased) return erased;
  }
  return true;
}

absl::Status LmdbStore::WithRemovalHeadroom(
    absl::FunctionRef<absl::Status()> removal) {
  absl::Status s = removal();
  if (s.code() != absl::StatusCode::kResourceExhausted) return s;
  // Full: freeing pages takes a few fresh ones first (copy-on-write).
  if (mdb_env_set_mapsize(env_, options_.map_size + kRemovalHeadroom) !=
      MDB_SUCCESS) {
    return s;
  }
  s = removal();
  // Back to map_size, or to the pages the file now uses if more. Only
  // unmaps and maps again: no transaction is open.
  mdb_env_set_mapsize(env_, options_.map_size);
  return s;
}

bool LmdbStore::Remove(std::string_view key) {
  (void)CommitBatch();  // A failure is kept for Commit().
  bool held = false;
  absl::Status status = WithRemovalHeadroom([&]() -> absl::Status {
    Writer writer(*this);
    if (absl::Status s = writer.Begin(); !s.ok()) return s;
    absl::StatusOr<std::optional<Record>> record = Find(writer.txn(), key);
    if (!record.ok()) return record.status();
    held = record->has_value();
    if (!held) return absl::OkStatus();
    absl::Status s = writer.Erase(**record);
    return s.ok() ? writer.Commit() : s;
  });
  return status.ok() && held;
}

size_t LmdbStore::ExpireSome(absl::Time now, size_t budget) {
  (void)CommitBatch();  // A failure is kept for Commit().
  size_t removed = 0;
  absl::Status status = WithRemovalHeadroom([&]() -> absl::Status {
    removed = 0;
    Writer writer(*this);
    absl::Status s = writer.Begin();
    while (s.ok() && removed < budget) {
      absl::StatusOr<bool> erased = writer.EraseOldestExpired(now);
      if (!erased.ok() || !*erased) {
        s = erased.status();
        break;
      }
      ++removed;
    }
    return s.ok() && removed > 0 ? writer.Commit() : s;
  });
  return status.ok() ? removed : 0;
}

absl::StatusOr<Record> LmdbStore::Get(std::string_view key,
                                      absl::Time now) const {
  TxnGuard read;
  if (batch_ == nullptr) {
    const int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &read.txn);
    if (rc != MDB_SUCCESS) return Error(rc, "cannot begin a read");
  }
  absl::StatusOr<std::optional<Record>> held =
      Find(batch_ != nullptr ? batch_ : read.txn, key);
  if (!held.ok()) return held.status();
  if (!held->has_value() || (*held)->expires <= now) {
    return absl::NotFoundError("no live record under this key");
  }
  return std::move(**held);
}

void LmdbStore::ForEach(absl::Time now,
                        absl::FunctionRef<void(const Record&)> fn) const {
  lmdb_txn::ForEachEntry(
      env_, batch_, records_db_,
      [&](std::string_view key, std::string_view value) {
        std::optional<Record> record = lmdb_format::DecodeRecord(key, value);
        if (record.has_value() && record->expires > now) fn(*record);
      });
}

}  // namespace kad::storage

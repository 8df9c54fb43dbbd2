// LmdbStore behaviour beyond the shared contract (which
// record_store_conformance_test.cc checks): persistence across reopen and
// across kill -9, group commit, the data-dir lock, the format version, and
// the errors an operator sees.
#include "storage/lmdb_store.h"

#include <lmdb.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kad::storage {

void PrintTo(const Record& r, std::ostream* os) {
  *os << "{key=\"" << r.key << "\" value=\"" << r.value << "\" seq=" << r.seq
      << " expires=" << r.expires << "}";
}

namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// A fresh temporary directory, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kad-lmdb-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty()) << "cannot create a temporary directory";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Record MakeRecord(std::string key, absl::Time expires,
                  std::string value = "value", uint64_t seq = 1) {
  return Record{std::move(key), std::move(value), seq, expires};
}

std::unique_ptr<LmdbStore> OpenOrDie(const std::string& dir,
                                     LmdbStoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<LmdbStore>> store =
      LmdbStore::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return std::move(store).value();
}

std::vector<Record> AllRecords(const RecordStore& store, absl::Time now) {
  std::vector<Record> records;
  store.ForEach(now, [&](const Record& r) { records.push_back(r); });
  return records;
}

std::vector<std::string> KeysOf(const RecordStore& store, absl::Time now) {
  std::vector<std::string> keys;
  for (const Record& r : AllRecords(store, now)) keys.push_back(r.key);
  return keys;
}

// Sets (or, given nullopt, deletes) the format version in `dir`'s meta
// database through the raw LMDB API, as another kad build would.
void WriteFormatVersion(const std::string& dir,
                        std::optional<uint32_t> version) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 3), MDB_SUCCESS);
  const std::string path = dir + "/records.mdb";
  ASSERT_EQ(mdb_env_open(env, path.c_str(), MDB_NOSUBDIR, 0644), MDB_SUCCESS);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), MDB_SUCCESS);
  MDB_dbi meta = 0;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), MDB_SUCCESS);
  char key_bytes[] = "format_version";
  MDB_val key{sizeof key_bytes - 1, key_bytes};
  if (version.has_value()) {
    char be[4] = {
        static_cast<char>(*version >> 24), static_cast<char>(*version >> 16),
        static_cast<char>(*version >> 8), static_cast<char>(*version)};
    MDB_val value{sizeof be, be};
    ASSERT_EQ(mdb_put(txn, meta, &key, &value, 0), MDB_SUCCESS);
  } else {
    ASSERT_EQ(mdb_del(txn, meta, &key, nullptr), MDB_SUCCESS);
  }
  ASSERT_EQ(mdb_txn_commit(txn), MDB_SUCCESS);
  mdb_env_close(env);
}

TEST(LmdbStoreTest, DefaultsMatchMemoryStoreQuotasWithAOneGiBMap) {
  TempDir root;
  auto store = OpenOrDie(root.path());
  EXPECT_EQ(store->options().max_records, 1'000'000u);
  EXPECT_EQ(store->options().max_bytes, 256u << 20);
  EXPECT_EQ(store->options().map_size, size_t{1} << 30);
  EXPECT_EQ(store->dir(), root.path());
}

TEST(LmdbStoreTest, OpenCreatesTheDataDirAndItsParents) {
  TempDir root;
  const std::string dir = root.path() + "/a/b/data";
  auto store = OpenOrDie(dir);
  EXPECT_TRUE(std::filesystem::exists(dir + "/LOCK"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/records.mdb"));
}

TEST(LmdbStoreTest, ReopeningGivesBackEveryRecordAndTheStats) {
  TempDir root;
  const absl::Time later = kNow + absl::Hours(2);
  std::vector<Record> before;
  StoreStats stats_before;
  {
    auto store = OpenOrDie(root.path());
    for (std::string key : {"a", "b", "c"}) {
      ASSERT_TRUE(
          store->Put(MakeRecord(key, kNow + absl::Hours(5)), kNow).ok());
    }
    ASSERT_EQ(store->Put(MakeRecord("b", later, "newer", 2), kNow).value(),
              PutOutcome::kReplaced);
    ASSERT_TRUE(store->Remove("c"));
    // Expired by `later` but still held: it must come back held, too.
    ASSERT_TRUE(store->Put(MakeRecord("d", kNow + absl::Hours(1)), kNow).ok());
    before = AllRecords(*store, kNow);
    stats_before = store->stats();
  }
  auto store = OpenOrDie(root.path());
  EXPECT_EQ(AllRecords(*store, kNow), before);
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a", "b", "d"));
  EXPECT_EQ(store->stats().records, stats_before.records);
  EXPECT_EQ(store->stats().bytes, stats_before.bytes);
  EXPECT_EQ(store->stats().records, 3u);
  EXPECT_EQ(store->ExpireSome(kNow + absl::Hours(3), 10), 2u);  // b and d.
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a"));
}

TEST(LmdbStoreTest, ExpireSomeContinuesOldestFirstAcrossReopen) {
  TempDir root;
  const absl::Time later = kNow + absl::Hours(1);
  {
    auto store = OpenOrDie(root.path());
    const std::vector<std::string> keys = {"e", "d", "c", "b", "a"};
    for (size_t i = 0; i < keys.size(); ++i) {
      const absl::Time expires = kNow + absl::Minutes(static_cast<int>(i + 1));
      ASSERT_TRUE(store->Put(MakeRecord(keys[i], expires), kNow).ok());
    }
    ASSERT_TRUE(
        store->Put(MakeRecord("live", kNow + absl::Hours(9)), kNow).ok());
    EXPECT_EQ(store->ExpireSome(later, 2), 2u);
  }
  {
    auto store = OpenOrDie(root.path());
    EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a", "b", "c", "live"));
    EXPECT_EQ(store->ExpireSome(later, 2), 2u);
    EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a", "live"));
  }
  auto store = OpenOrDie(root.path());
  EXPECT_EQ(store->stats().records, 2u);
  EXPECT_EQ(store->ExpireSome(later, 10), 1u);
  EXPECT_EQ(store->ExpireSome(later, 10), 0u);
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("live"));
  EXPECT_EQ(store->stats().records, 1u);
}

TEST(LmdbStoreTest, ExpiryFinerThanAMicrosecondIsRoundedUp) {
  TempDir root;
  auto store = OpenOrDie(root.path());
  ASSERT_EQ(
      store->Put(MakeRecord("k", kNow + absl::Nanoseconds(1)), kNow).value(),
      PutOutcome::kStored);
  EXPECT_EQ(store->Get("k", kNow).value().expires,
            kNow + absl::Microseconds(1));
  EXPECT_EQ(store->Get("k", kNow + absl::Microseconds(1)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(LmdbStoreTest, StagedPutsAreServedAtOnceAndKeptByCommit) {
  TempDir root;
  {
    auto store = OpenOrDie(root.path());
    EXPECT_EQ(store->staged(), 0u);
    ASSERT_TRUE(store->Put(MakeRecord("a", kNow + absl::Hours(1)), kNow).ok());
    ASSERT_TRUE(store->Put(MakeRecord("b", kNow + absl::Hours(1)), kNow).ok());
    ASSERT_EQ(store->Put(MakeRecord("b", kNow + absl::Hours(1), "v2", 2), kNow)
                  .value(),
              PutOutcome::kReplaced);
    // A Put that changes nothing stages nothing.
    ASSERT_EQ(store->Put(MakeRecord("a", kNow + absl::Hours(1)), kNow).value(),
              PutOutcome::kKeptExisting);
    EXPECT_EQ(store->staged(), 3u);
    EXPECT_EQ(store->Get("b", kNow).value().value, "v2");
    EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a", "b"));
    EXPECT_EQ(store->stats().records, 2u);
    EXPECT_TRUE(store->Commit().ok());
    EXPECT_EQ(store->staged(), 0u);
    EXPECT_TRUE(store->Commit().ok());  // Nothing staged: nothing to do.
    ASSERT_TRUE(store->Put(MakeRecord("c", kNow + absl::Hours(1)), kNow).ok());
    // Removal commits the batch first.
    EXPECT_FALSE(store->Remove("absent"));
    EXPECT_EQ(store->staged(), 0u);
    EXPECT_TRUE(store->Commit().ok());
  }
  auto store = OpenOrDie(root.path());
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a", "b", "c"));
  EXPECT_EQ(store->stats().records, 3u);
}

TEST(LmdbStoreTest, APublicationWriteCommitsTheBatchFirst) {
  TempDir root;
  {
    auto store = OpenOrDie(root.path());
    ASSERT_TRUE(store->Put(MakeRecord("held", kNow + absl::Hours(1)), kNow).ok());
    ASSERT_TRUE(store->publications()
                    .Put({MakeRecord("ours", kNow + absl::Hours(1)),
                          absl::Hours(1)})
                    .ok());
    EXPECT_EQ(store->staged(), 0u);
    EXPECT_TRUE(store->Commit().ok());
  }
  auto store = OpenOrDie(root.path());
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("held"));
  EXPECT_EQ(store->publications().size(), 1u);
}

TEST(LmdbStoreTest, ARefusedPutLeavesTheBatchAsItWas) {
  TempDir root;
  auto store = OpenOrDie(root.path(), {.max_records = 2});
  ASSERT_TRUE(store->Put(MakeRecord("a", kNow + absl::Hours(1)), kNow).ok());
  ASSERT_TRUE(store->Put(MakeRecord("b", kNow + absl::Hours(1)), kNow).ok());
  EXPECT_EQ(store->Put(MakeRecord("c", kNow + absl::Hours(1)), kNow)
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store->staged(), 2u);
  EXPECT_TRUE(store->Commit().ok());
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a", "b"));
}

// Limits the size of files this process may write, for one scope; writes
// past it fail with EFBIG instead of raising SIGXFSZ.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_;
  sighandler_t previous_handler_;
};

TEST(LmdbStoreTest, FailedCommitUndoesTheBatchAndKeepsWhatWasCommitted) {
  TempDir root;
  auto store = OpenOrDie(root.path());
  ASSERT_TRUE(store->Put(MakeRecord("kept", kNow + absl::Hours(1)), kNow).ok());
  ASSERT_TRUE(store->Commit().ok());
  const StoreStats committed = store->stats();
  const std::string value(kMaxValueBytes, 'v');
  {
    // The batch needs far more than the file may grow by.
    FileSizeLimit limit(std::filesystem::file_size(root.path() + "/records.mdb") +
                        (64 << 10));
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(store->Put(MakeRecord(absl::StrCat("lost", i),
                                        kNow + absl::Hours(1), value),
                             kNow)
                      .ok());
    }
    EXPECT_TRUE(store->Get("lost7", kNow).ok());
    // A short write: LMDB reports EIO.
    const absl::Status commit = store->Commit();
    EXPECT_THAT(commit.code(), AnyOf(absl::StatusCode::kResourceExhausted,
                                     absl::StatusCode::kUnavailable))
        << commit;
    EXPECT_THAT(std::string(commit.message()), HasSubstr(root.path()));
  }
  EXPECT_EQ(store->staged(), 0u);
  EXPECT_EQ(store->stats().records, committed.records);
  EXPECT_EQ(store->stats().bytes, committed.bytes);
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("kept"));
  EXPECT_EQ(store->Get("lost7", kNow).status().code(),
            absl::StatusCode::kNotFound);
  // Still usable, and the failure is reported once.
  ASSERT_TRUE(store->Put(MakeRecord("after", kNow + absl::Hours(1)), kNow).ok());
  EXPECT_TRUE(store->Commit().ok());
  store.reset();
  store = OpenOrDie(root.path());
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("after", "kept"));
}

TEST(LmdbStoreTest, ForEachMayReadTheStore) {
  TempDir root;
  auto store = OpenOrDie(root.path());
  ASSERT_TRUE(store->Put(MakeRecord("a", kNow + absl::Hours(1)), kNow).ok());
  ASSERT_TRUE(store->Put(MakeRecord("b", kNow + absl::Hours(1)), kNow).ok());
  int visited = 0;
  store->ForEach(kNow, [&](const Record& r) {
    EXPECT_EQ(store->Get(r.key, kNow).value(), r);
    ++visited;
  });
  EXPECT_EQ(visited, 2);
}

TEST(LmdbStoreTest, IncompatibleFormatVersionIsRefusedNamingBoth) {
  TempDir root;
  ASSERT_TRUE(OpenOrDie(root.path())
                  ->Put(MakeRecord("k", kNow + absl::Hours(1)), kNow)
                  .ok());
  WriteFormatVersion(root.path(), kLmdbStoreFormatVersion + 1);

  absl::Status status = LmdbStore::Open(root.path()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      std::string(status.message()),
      AllOf(HasSubstr(root.path()),
            HasSubstr(absl::StrCat("version ", kLmdbStoreFormatVersion + 1)),
            HasSubstr(absl::StrCat("version ", kLmdbStoreFormatVersion))));
  EXPECT_EQ(std::string(status.message()).find('\n'), std::string::npos);

  WriteFormatVersion(root.path(), std::nullopt);
  status = LmdbStore::Open(root.path()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("version unknown"));

  // Refusing touched nothing: with the version restored, the record is back.
  WriteFormatVersion(root.path(), kLmdbStoreFormatVersion);
  EXPECT_TRUE(OpenOrDie(root.path())->Get("k", kNow).ok());
}

TEST(LmdbStoreTest, SecondOpenOfADirInUseIsRefusedUntilTheFirstCloses) {
  TempDir root;
  auto first = OpenOrDie(root.path());
  absl::Status status = LmdbStore::Open(root.path()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), absl::StrCat("data dir ", root.path(),
                                           " is in use by another kad node"));
  first.reset();
  EXPECT_TRUE(LmdbStore::Open(root.path()).ok());
}

TEST(LmdbStoreTest, AnotherProcessCannotOpenADirInUse) {
  TempDir root;
  auto first = OpenOrDie(root.path());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // _exit: the child must not run the parent's destructors.
    absl::Status status = LmdbStore::Open(root.path()).status();
    _exit(status.code() == absl::StatusCode::kFailedPrecondition &&
                  absl::StrContains(std::string(status.message()), "in use")
              ? 0
              : 1);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0) << "the child's Open was not refused";
}

TEST(LmdbStoreTest, UncreatableDirIsRefusedNamingIt) {
  TempDir root;
  const std::string file = root.path() + "/file";
  std::ofstream(file) << "not a directory";
  for (const std::string& dir :
       {file, file + "/data", std::string("/dev/null/x")}) {
    absl::Status status = LmdbStore::Open(dir).status();
    EXPECT_THAT(status.code(), AnyOf(absl::StatusCode::kPermissionDenied,
                                     absl::StatusCode::kUnavailable))
        << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(dir));
    EXPECT_EQ(std::string(status.message()).find('\n'), std::string::npos);
  }
}

TEST(LmdbStoreTest, FullMapRefusesAsDiskFullAndKeepsServing) {
  TempDir root;
  const LmdbStoreOptions tiny{.map_size = 256 << 10};
  auto store = OpenOrDie(root.path(), tiny);
  const std::string value(kMaxValueBytes, 'v');
  // Large records until one is refused, then small ones until even those
  // are: the map is then packed full. Each Put is committed on its own: a
  // batch that fills the map may not fit its commit (refused whole).
  std::vector<std::string> stored;
  absl::Status status;
  for (size_t value_size : {kMaxValueBytes, size_t{1}}) {
    for (int i = 0; i < 1000; ++i) {
      const std::string key = absl::StrCat("key", stored.size(), "-", i);
      const Record record =
          MakeRecord(key, kNow + absl::Hours(1), std::string(value_size, 'v'));
      status = store->Put(record, kNow).status();
      if (status.ok()) status = store->Commit();
      if (!status.ok()) break;
      stored.push_back(key);
    }
    ASSERT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  }
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("disk full"), HasSubstr(root.path())));
  ASSERT_GE(stored.size(), 10u);
  EXPECT_EQ(store->stats().records, stored.size());
  EXPECT_EQ(KeysOf(*store, kNow).size(), stored.size());
  for (const std::string& key : stored) EXPECT_TRUE(store->Get(key, kNow).ok());

  // Still drainable, then writable again.
  ASSERT_TRUE(store->Remove(stored.front()));
  EXPECT_EQ(store->ExpireSome(kNow + absl::Hours(2), 2), 2u);
  EXPECT_EQ(store->stats().records, stored.size() - 3);
  EXPECT_TRUE(
      store->Put(MakeRecord("small", kNow + absl::Hours(3)), kNow).ok());

  // A larger map, on reopen, takes what the small one refused.
  store.reset();
  store = OpenOrDie(root.path());
  EXPECT_EQ(store->stats().records, stored.size() - 2);
  EXPECT_TRUE(
      store->Put(MakeRecord("more", kNow + absl::Hours(1), value), kNow).ok());
}

constexpr uint32_t kChildPuts = 100'000;  // More acks than a pipe holds.
constexpr size_t kAcksBeforeKill = 50;
constexpr uint32_t kPutsPerCommit = 7;

std::string CrashKey(uint32_t i) { return absl::StrCat("crash-", i); }

// Runs in the child: puts records in batches of kPutsPerCommit, writing
// each index to `ack_fd` once the Commit() after its Put returned OK.
// Returns an exit code.
int PutAndAcknowledge(const std::string& dir, int ack_fd) {
  absl::StatusOr<std::unique_ptr<LmdbStore>> store = LmdbStore::Open(dir);
  if (!store.ok()) return 2;
  for (uint32_t first = 0; first < kChildPuts; first += kPutsPerCommit) {
    const uint32_t end = std::min(first + kPutsPerCommit, kChildPuts);
    for (uint32_t i = first; i < end; ++i) {
      const Record record = MakeRecord(CrashKey(i), kNow + absl::Hours(1));
      if (!(*store)->Put(record, kNow).ok()) return 3;
    }
    if (!(*store)->Commit().ok()) return 5;
    for (uint32_t i = first; i < end; ++i) {
      if (write(ack_fd, &i, sizeof i) != sizeof i) return 4;
    }
  }
  return 0;
}

// Reads one acknowledged index; false at end of stream.
bool ReadAck(int fd, uint32_t* index) {
  char* out = reinterpret_cast<char*>(index);
  size_t got = 0;
  while (got < sizeof *index) {
    const ssize_t n = read(fd, out + got, sizeof *index - got);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

TEST(LmdbStoreTest, KillNineLosesNoAcknowledgedRecord) {
  TempDir root;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    _exit(PutAndAcknowledge(root.path(), fds[1]));
  }
  close(fds[1]);
  std::vector<uint32_t> acked;
  uint32_t index = 0;
  while (acked.size() < kAcksBeforeKill && ReadAck(fds[0], &index)) {
    acked.push_back(index);
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  while (ReadAck(fds[0], &index)) acked.push_back(index);  // Sent before.
  close(fds[0]);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL)
      << "the child ended before the kill, status " << wait_status;
  ASSERT_GE(acked.size(), kAcksBeforeKill);

  auto store = OpenOrDie(root.path());
  for (size_t i = 0; i < acked.size(); ++i) {
    ASSERT_EQ(acked[i], i);
    EXPECT_TRUE(store->Get(CrashKey(acked[i]), kNow).ok()) << acked[i];
  }
  // At most the one batch in flight committed without its acks.
  EXPECT_GE(store->stats().records, acked.size());
  EXPECT_LE(store->stats().records, acked.size() + kPutsPerCommit);
  EXPECT_EQ(KeysOf(*store, kNow).size(), store->stats().records);
}

}  // namespace
}  // namespace kad::storage

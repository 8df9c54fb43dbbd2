// The contract in storage/record_store.h, checked against every store.
//
// To add a store: specialize StoreFactory for it below and add it to
// StoreTypes. A factory is a default-constructible object that lives as
// long as the test (so it may own, say, a temporary directory) and whose
// Make(max_records, max_bytes) returns a new, empty store with those
// quotas, and whose kName names the store in test names.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "dht/group_committer.h"
#include "gtest/gtest.h"
#include "net/sim_clock.h"
#include "storage/lmdb_store.h"
#include "storage/memory_store.h"
#include "storage/record.h"
#include "storage/record_store.h"
#include "tests/testing/staging_store.h"

namespace kad::storage {

void PrintTo(const Record& r, std::ostream* os) {
  *os << "{key=\"" << r.key << "\" value=\"" << r.value << "\" seq=" << r.seq
      << " expires=" << r.expires << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr size_t kRoomy = size_t{1} << 30;

template <typename Store>
struct StoreFactory;

template <>
struct StoreFactory<MemoryStore> {
  static constexpr char kName[] = "MemoryStore";
  std::unique_ptr<RecordStore> Make(size_t max_records, size_t max_bytes) {
    return std::make_unique<MemoryStore>(
        MemoryStoreOptions{.max_records = max_records, .max_bytes = max_bytes});
  }
};

// Each store gets its own data dir under one temporary directory, which
// goes when the test ends (after the stores it made).
template <>
struct StoreFactory<LmdbStore> {
  static constexpr char kName[] = "LmdbStore";
  StoreFactory() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kad-conformance-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) != nullptr) root = pattern;
    EXPECT_FALSE(root.empty()) << "cannot create a temporary directory";
  }
  ~StoreFactory() {
    std::error_code ignored;
    if (!root.empty()) std::filesystem::remove_all(root, ignored);
  }
  std::unique_ptr<RecordStore> Make(size_t max_records, size_t max_bytes) {
    absl::StatusOr<std::unique_ptr<LmdbStore>> store =
        LmdbStore::Open(absl::StrCat(root, "/store", made++),
                        {.max_records = max_records, .max_bytes = max_bytes});
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }

  std::string root;
  int made = 0;
};

// The fake staging store of tests/testing/staging_store.h.
template <>
struct StoreFactory<testing::StagingStore> {
  static constexpr char kName[] = "StagingStore";
  std::unique_ptr<RecordStore> Make(size_t max_records, size_t max_bytes) {
    return std::make_unique<testing::StagingStore>(
        MemoryStoreOptions{.max_records = max_records, .max_bytes = max_bytes});
  }
};

// The node's view of an LmdbStore: committing every 3 Puts, and never at
// a turn of the loop (its clock does not run).
template <>
struct StoreFactory<dht::GroupCommitter> {
  static constexpr char kName[] = "GroupCommitterOverLmdbStore";
  std::unique_ptr<RecordStore> Make(size_t max_records, size_t max_bytes) {
    stores.push_back(lmdb.Make(max_records, max_bytes));
    return std::make_unique<dht::GroupCommitter>(
        *stores.back(), clock, dht::GroupCommitOptions{.max_batch = 3});
  }

  StoreFactory<LmdbStore> lmdb;
  net::SimClock clock;
  std::vector<std::unique_ptr<RecordStore>> stores;  // Last: closed first.
};

using StoreTypes = ::testing::Types<MemoryStore, LmdbStore,
                                    testing::StagingStore, dht::GroupCommitter>;

struct StoreNames {
  template <typename Store>
  static std::string GetName(int) {
    return StoreFactory<Store>::kName;
  }
};

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

Record MakeRecord(std::string key, std::string value, uint64_t seq,
                  absl::Time expires = kNow + absl::Hours(1)) {
  return Record{std::move(key), std::move(value), seq, expires};
}

std::vector<std::string> KeysOf(const RecordStore& store, absl::Time now) {
  std::vector<std::string> keys;
  store.ForEach(now, [&](const Record& r) { keys.push_back(r.key); });
  return keys;
}

template <typename Store>
class RecordStoreConformanceTest : public ::testing::Test {
 protected:
  std::unique_ptr<RecordStore> MakeStore(size_t max_records = kRoomy,
                                         size_t max_bytes = kRoomy) {
    return factory_.Make(max_records, max_bytes);
  }

  StoreFactory<Store> factory_;
};

TYPED_TEST_SUITE(RecordStoreConformanceTest, StoreTypes, StoreNames);

TYPED_TEST(RecordStoreConformanceTest, StoresAndReturnsARecord) {
  auto store = this->MakeStore();
  const Record record = MakeRecord("key", std::string("v\0al", 4), 7);
  EXPECT_EQ(store->Put(record, kNow).value(), PutOutcome::kStored);
  EXPECT_EQ(store->Get("key", kNow).value(), record);
  EXPECT_EQ(store->Get("other", kNow).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(RecordStoreConformanceTest, HigherSeqReplacesLower) {
  auto store = this->MakeStore();
  ASSERT_TRUE(store->Put(MakeRecord("k", "old", 1), kNow).ok());
  const Record newer = MakeRecord("k", "new", 2, kNow + absl::Hours(2));
  EXPECT_EQ(store->Put(newer, kNow).value(), PutOutcome::kReplaced);
  EXPECT_EQ(store->Get("k", kNow).value(), newer);
}

TYPED_TEST(RecordStoreConformanceTest, LowerSeqIsKeptOut) {
  auto store = this->MakeStore();
  const Record current = MakeRecord("k", "current", 5);
  ASSERT_TRUE(store->Put(current, kNow).ok());
  EXPECT_EQ(store->Put(MakeRecord("k", "stale", 4), kNow).value(),
            PutOutcome::kKeptExisting);
  EXPECT_EQ(store->Get("k", kNow).value(), current);
}

TYPED_TEST(RecordStoreConformanceTest,
           EqualSeqLargerDigestWinsWhateverTheArrivalOrder) {
  Record a = MakeRecord("k", "alpha", 3);
  Record b = MakeRecord("k", "bravo", 3);
  ASSERT_NE(DigestOf(a), DigestOf(b));
  const Record& winner = DigestOf(a) > DigestOf(b) ? a : b;
  const Record& loser = DigestOf(a) > DigestOf(b) ? b : a;

  auto winner_first = this->MakeStore();
  ASSERT_TRUE(winner_first->Put(winner, kNow).ok());
  EXPECT_EQ(winner_first->Put(loser, kNow).value(), PutOutcome::kKeptExisting);
  EXPECT_EQ(winner_first->Get("k", kNow).value(), winner);

  auto loser_first = this->MakeStore();
  ASSERT_TRUE(loser_first->Put(loser, kNow).ok());
  EXPECT_EQ(loser_first->Put(winner, kNow).value(), PutOutcome::kReplaced);
  EXPECT_EQ(loser_first->Get("k", kNow).value(), winner);
}

TYPED_TEST(RecordStoreConformanceTest, IdenticalRecordIsKeptExisting) {
  auto store = this->MakeStore();
  const Record record = MakeRecord("k", "v", 9);
  ASSERT_TRUE(store->Put(record, kNow).ok());
  EXPECT_EQ(store->Put(record, kNow).value(), PutOutcome::kKeptExisting);
  EXPECT_EQ(store->Get("k", kNow).value(), record);
  EXPECT_EQ(store->stats().records, 1u);
}

TYPED_TEST(RecordStoreConformanceTest, RepublishWithLaterExpiryExtendsIt) {
  auto store = this->MakeStore();
  const Record first = MakeRecord("k", "v", 9, kNow + absl::Hours(1));
  ASSERT_TRUE(store->Put(first, kNow).ok());
  Record republished = first;
  republished.expires = kNow + absl::Hours(3);
  EXPECT_EQ(store->Put(republished, kNow).value(), PutOutcome::kKeptExisting);

  const absl::Time later = kNow + absl::Hours(2);
  EXPECT_EQ(store->Get("k", later).value(), republished);
  EXPECT_EQ(store->ExpireSome(later, 10), 0u);
  EXPECT_THAT(KeysOf(*store, later), ElementsAre("k"));
}

TYPED_TEST(RecordStoreConformanceTest, RepublishWithEarlierExpiryKeepsLater) {
  auto store = this->MakeStore();
  const Record first = MakeRecord("k", "v", 9, kNow + absl::Hours(3));
  ASSERT_TRUE(store->Put(first, kNow).ok());
  Record shorter = first;
  shorter.expires = kNow + absl::Hours(1);
  EXPECT_EQ(store->Put(shorter, kNow).value(), PutOutcome::kKeptExisting);
  EXPECT_EQ(store->Get("k", kNow + absl::Hours(2)).value(), first);
}

TYPED_TEST(RecordStoreConformanceTest, ExpiredRecordsAreInvisible) {
  auto store = this->MakeStore();
  const absl::Time expires = kNow + absl::Minutes(5);
  ASSERT_TRUE(store->Put(MakeRecord("gone", "v", 1, expires), kNow).ok());
  ASSERT_TRUE(store->Put(MakeRecord("kept", "v", 1), kNow).ok());

  EXPECT_TRUE(store->Get("gone", expires - absl::Nanoseconds(1)).ok());
  EXPECT_EQ(store->Get("gone", expires).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(KeysOf(*store, expires), ElementsAre("kept"));
}

TYPED_TEST(RecordStoreConformanceTest, ExpiredRecordUnderTheKeyCountsAsAbsent) {
  auto store = this->MakeStore();
  const absl::Time expires = kNow + absl::Minutes(5);
  ASSERT_TRUE(store->Put(MakeRecord("k", "high", 100, expires), kNow).ok());
  const Record low = MakeRecord("k", "low", 1, expires + absl::Hours(1));
  EXPECT_EQ(store->Put(low, expires).value(), PutOutcome::kStored);
  EXPECT_EQ(store->Get("k", expires).value(), low);
  EXPECT_EQ(store->stats().records, 1u);
  EXPECT_EQ(store->stats().bytes, low.footprint());
}

TYPED_TEST(RecordStoreConformanceTest,
           ExpireSomeRemovesAtMostBudgetOldestFirst) {
  auto store = this->MakeStore();
  // Key order is the reverse of expiry order, so the two cannot be confused.
  const std::vector<std::string> keys = {"e", "d", "c", "b", "a"};
  for (size_t i = 0; i < keys.size(); ++i) {
    const absl::Time expires = kNow + absl::Minutes(static_cast<int>(i + 1));
    ASSERT_TRUE(store->Put(MakeRecord(keys[i], "v", 1, expires), kNow).ok());
  }
  ASSERT_TRUE(
      store->Put(MakeRecord("live", "v", 1, kNow + absl::Hours(9)), kNow).ok());
  const absl::Time later = kNow + absl::Hours(1);

  EXPECT_EQ(store->ExpireSome(later, 2), 2u);
  // Viewed from before anything expired, only the two oldest are gone.
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a", "b", "c", "live"));
  EXPECT_EQ(store->ExpireSome(later, 0), 0u);
  EXPECT_EQ(store->ExpireSome(later, 100), 3u);
  EXPECT_EQ(store->ExpireSome(later, 100), 0u);
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("live"));
  EXPECT_EQ(store->stats().records, 1u);
}

TYPED_TEST(RecordStoreConformanceTest, ExpireSomeRemovesOnlyWhatHasExpired) {
  auto store = this->MakeStore();
  const absl::Time expires = kNow + absl::Minutes(1);
  ASSERT_TRUE(store->Put(MakeRecord("k", "v", 1, expires), kNow).ok());
  EXPECT_EQ(store->ExpireSome(expires - absl::Nanoseconds(1), 10), 0u);
  EXPECT_EQ(store->ExpireSome(expires, 10), 1u);
  EXPECT_EQ(store->stats().records, 0u);
}

TYPED_TEST(RecordStoreConformanceTest, PutOfAnExpiredRecordIsRefused) {
  auto store = this->MakeStore();
  for (absl::Time expires : {kNow, kNow - absl::Seconds(1)}) {
    EXPECT_EQ(
        store->Put(MakeRecord("k", "v", 1, expires), kNow).status().code(),
        absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(store->Get("k", kNow - absl::Hours(1)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store->stats().records, 0u);
}

TYPED_TEST(RecordStoreConformanceTest,
           OversizedRecordsAreRefusedNamingTheLimit) {
  auto store = this->MakeStore();
  absl::Status key_status =
      store->Put(MakeRecord(std::string(kMaxKeyBytes + 1, 'k'), "v", 1), kNow)
          .status();
  EXPECT_EQ(key_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(key_status.message()), HasSubstr("128"));

  absl::Status value_status =
      store->Put(MakeRecord("k", std::string(kMaxValueBytes + 1, 'v'), 1), kNow)
          .status();
  EXPECT_EQ(value_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(value_status.message()), HasSubstr("1000"));

  EXPECT_EQ(store->Put(MakeRecord("", "v", 1), kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->stats().records, 0u);
}

TYPED_TEST(RecordStoreConformanceTest, RecordsAtTheSizeLimitsAreStored) {
  auto store = this->MakeStore();
  const Record largest = MakeRecord(std::string(kMaxKeyBytes, 'k'),
                                    std::string(kMaxValueBytes, 'v'), 1);
  EXPECT_EQ(store->Put(largest, kNow).value(), PutOutcome::kStored);
  EXPECT_EQ(store->Get(largest.key, kNow).value(), largest);
}

TYPED_TEST(RecordStoreConformanceTest, RemoveDeletesAndReportsPresence) {
  auto store = this->MakeStore();
  ASSERT_TRUE(store->Put(MakeRecord("k", "v", 1), kNow).ok());
  ASSERT_TRUE(store->Put(MakeRecord("other", "v", 1), kNow).ok());
  EXPECT_TRUE(store->Remove("k"));
  EXPECT_FALSE(store->Remove("k"));
  EXPECT_FALSE(store->Remove("never"));
  EXPECT_EQ(store->Get("k", kNow).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store->Get("other", kNow).ok());
  EXPECT_EQ(store->stats().records, 1u);
  // A removed key is new again, whatever version it held.
  EXPECT_EQ(store->Put(MakeRecord("k", "v", 0), kNow).value(),
            PutOutcome::kStored);
}

TYPED_TEST(RecordStoreConformanceTest, ForEachVisitsLiveRecordsInByteOrder) {
  auto store = this->MakeStore();
  const std::string zero_x("\0x", 2);
  for (std::string key : {"b", "\xff", "ab", "a", "B"}) {
    ASSERT_TRUE(store->Put(MakeRecord(key, "v", 1), kNow).ok());
  }
  ASSERT_TRUE(store->Put(MakeRecord(zero_x, "v", 1), kNow).ok());
  // Keys compare as unsigned bytes: 0x00 first, 0xff last.
  EXPECT_THAT(KeysOf(*store, kNow),
              ElementsAre(zero_x, "B", "a", "ab", "b", "\xff"));
}

TYPED_TEST(RecordStoreConformanceTest, StatsTrackRecordsAndBytes) {
  auto store = this->MakeStore();
  EXPECT_EQ(store->stats().records, 0u);
  EXPECT_EQ(store->stats().bytes, 0u);

  const Record a = MakeRecord("a", "short", 1, kNow + absl::Minutes(1));
  const Record b = MakeRecord("b", "value", 1, kNow + absl::Hours(1));
  ASSERT_TRUE(store->Put(a, kNow).ok());
  ASSERT_TRUE(store->Put(b, kNow).ok());
  EXPECT_EQ(store->stats().records, 2u);
  EXPECT_EQ(store->stats().bytes, a.footprint() + b.footprint());

  const Record bigger_a = MakeRecord("a", "a longer value", 2, a.expires);
  ASSERT_EQ(store->Put(bigger_a, kNow).value(), PutOutcome::kReplaced);
  EXPECT_EQ(store->stats().records, 2u);
  EXPECT_EQ(store->stats().bytes, bigger_a.footprint() + b.footprint());

  ASSERT_EQ(store->ExpireSome(kNow + absl::Minutes(30), 10), 1u);
  EXPECT_EQ(store->stats().records, 1u);
  EXPECT_EQ(store->stats().bytes, b.footprint());

  ASSERT_TRUE(store->Remove("b"));
  EXPECT_EQ(store->stats().records, 0u);
  EXPECT_EQ(store->stats().bytes, 0u);
}

TYPED_TEST(RecordStoreConformanceTest, ReplacementMovesTheExpiry) {
  auto store = this->MakeStore();
  ASSERT_TRUE(
      store->Put(MakeRecord("k", "v1", 1, kNow + absl::Minutes(1)), kNow).ok());
  const Record longer = MakeRecord("k", "v2", 2, kNow + absl::Hours(2));
  ASSERT_EQ(store->Put(longer, kNow).value(), PutOutcome::kReplaced);
  const absl::Time later = kNow + absl::Hours(1);
  EXPECT_EQ(store->ExpireSome(later, 10), 0u);
  EXPECT_EQ(store->Get("k", later).value(), longer);
  EXPECT_EQ(store->ExpireSome(longer.expires, 10), 1u);
}

TYPED_TEST(RecordStoreConformanceTest, NewKeyBeyondMaxRecordsIsRefused) {
  auto store = this->MakeStore(/*max_records=*/2, kRoomy);
  ASSERT_TRUE(store->Put(MakeRecord("a", "v", 1), kNow).ok());
  ASSERT_TRUE(store->Put(MakeRecord("b", "v", 1), kNow).ok());
  absl::Status status = store->Put(MakeRecord("c", "v", 1), kNow).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_records"));
  EXPECT_THAT(KeysOf(*store, kNow), ElementsAre("a", "b"));
  // Replacing a held key adds no record, so it is still allowed.
  EXPECT_EQ(store->Put(MakeRecord("a", "v", 2), kNow).value(),
            PutOutcome::kReplaced);
}

TYPED_TEST(RecordStoreConformanceTest, NewKeyBeyondMaxBytesIsRefused) {
  const Record a = MakeRecord("a", "value", 1);
  const Record b = MakeRecord("b", "value!", 1);
  auto store = this->MakeStore(kRoomy, a.footprint() + b.footprint() - 1);
  ASSERT_TRUE(store->Put(a, kNow).ok());
  absl::Status status = store->Put(b, kNow).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_bytes"));
  EXPECT_EQ(store->stats().records, 1u);
  EXPECT_EQ(store->stats().bytes, a.footprint());
  // One byte less fits exactly.
  EXPECT_EQ(store->Put(MakeRecord("b", "value", 1), kNow).value(),
            PutOutcome::kStored);
}

TYPED_TEST(RecordStoreConformanceTest, ReplacementBeyondMaxBytesKeepsTheOld) {
  const Record old = MakeRecord("k", "short", 1);
  auto store = this->MakeStore(kRoomy, old.footprint() + 3);
  ASSERT_TRUE(store->Put(old, kNow).ok());
  absl::Status status =
      store->Put(MakeRecord("k", "short and long", 2), kNow).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_bytes"));
  EXPECT_EQ(store->Get("k", kNow).value(), old);
  EXPECT_EQ(store->stats().bytes, old.footprint());
  const Record fits = MakeRecord("k", "short...", 2);
  EXPECT_EQ(store->Put(fits, kNow).value(), PutOutcome::kReplaced);
  EXPECT_EQ(store->stats().bytes, fits.footprint());
}

}  // namespace
}  // namespace kad::storage

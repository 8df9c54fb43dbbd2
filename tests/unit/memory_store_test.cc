// MemoryStore behaviour beyond the shared contract (which
// record_store_conformance_test.cc checks): its default quotas and how it
// accounts for records that have expired but are not yet removed.
#include "storage/memory_store.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kad::storage {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

Record MakeRecord(std::string key, absl::Time expires,
                  std::string value = "value", uint64_t seq = 1) {
  return Record{std::move(key), std::move(value), seq, expires};
}

TEST(MemoryStoreTest, DefaultQuotasAreAMillionRecordsAnd256MiB) {
  MemoryStore store;
  EXPECT_EQ(store.options().max_records, 1'000'000u);
  EXPECT_EQ(store.options().max_bytes, 256u * 1024 * 1024);
}

TEST(MemoryStoreTest, StatsCountExpiredRecordsUntilRemoved) {
  MemoryStore store;
  const Record r = MakeRecord("k", kNow + absl::Minutes(1));
  ASSERT_TRUE(store.Put(r, kNow).ok());
  const absl::Time later = kNow + absl::Hours(1);

  // Get and ForEach see nothing, but remove nothing either.
  EXPECT_EQ(store.Get("k", later).status().code(), absl::StatusCode::kNotFound);
  size_t visited = 0;
  store.ForEach(later, [&](const Record&) { ++visited; });
  EXPECT_EQ(visited, 0u);
  EXPECT_EQ(store.stats().records, 1u);
  EXPECT_EQ(store.stats().bytes, r.footprint());

  EXPECT_EQ(store.ExpireSome(later, 1), 1u);
  EXPECT_EQ(store.stats().records, 0u);
  EXPECT_EQ(store.stats().bytes, 0u);
}

TEST(MemoryStoreTest, RemoveReportsAnExpiredButHeldRecord) {
  MemoryStore store;
  ASSERT_TRUE(store.Put(MakeRecord("k", kNow + absl::Minutes(1)), kNow).ok());
  EXPECT_TRUE(store.Remove("k"));
  EXPECT_EQ(store.stats().records, 0u);
  EXPECT_EQ(store.ExpireSome(kNow + absl::Hours(1), 10), 0u);
}

TEST(MemoryStoreTest, NewKeyReclaimsExpiredRecordsToFitMaxRecords) {
  MemoryStore store(MemoryStoreOptions{.max_records = 2});
  ASSERT_TRUE(store.Put(MakeRecord("old", kNow + absl::Minutes(1)), kNow).ok());
  ASSERT_TRUE(store.Put(MakeRecord("live", kNow + absl::Hours(9)), kNow).ok());
  const absl::Time later = kNow + absl::Hours(1);

  EXPECT_EQ(store.Put(MakeRecord("new", kNow + absl::Hours(9)), later).value(),
            PutOutcome::kStored);
  EXPECT_EQ(store.stats().records, 2u);
  EXPECT_TRUE(store.Get("live", later).ok());
  // Only live records remain, so the next new key is refused.
  absl::Status status =
      store.Put(MakeRecord("more", kNow + absl::Hours(9)), later).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_records is 2"));
}

TEST(MemoryStoreTest, ReclaimsOnlyAsManyExpiredRecordsAsNeeded) {
  const Record probe = MakeRecord("a0", kNow);
  MemoryStore store(MemoryStoreOptions{.max_bytes = 4 * probe.footprint()});
  for (int i = 0; i < 4; ++i) {
    const absl::Time expires = kNow + absl::Minutes(i + 1);
    // StrCat, not "a" + std::to_string(i): GCC 12 at -O3 reports a false
    // -Wrestrict inside std::string's operator+ (GCC bug 105329).
    ASSERT_TRUE(store.Put(MakeRecord(absl::StrCat("a", i), expires), kNow).ok());
  }
  // Needs two records' worth of bytes: removes the two oldest, no more.
  const Record big =
      MakeRecord("b0", kNow + absl::Hours(9), std::string(34, 'v'));
  ASSERT_LE(big.footprint(), 2 * probe.footprint());
  ASSERT_GT(big.footprint(), probe.footprint());
  EXPECT_EQ(store.Put(big, kNow + absl::Hours(1)).value(), PutOutcome::kStored);
  EXPECT_EQ(store.stats().records, 3u);
  EXPECT_EQ(store.stats().bytes, 2 * probe.footprint() + big.footprint());
  EXPECT_EQ(store.ExpireSome(kNow + absl::Hours(1), 10), 2u);
}

TEST(MemoryStoreTest, ReplacementReclaimsExpiredRecordsToFitMaxBytes) {
  const Record held = MakeRecord("k", kNow + absl::Hours(9));
  const Record expiring = MakeRecord("x", kNow + absl::Minutes(1));
  MemoryStore store(
      MemoryStoreOptions{.max_bytes = held.footprint() + expiring.footprint()});
  ASSERT_TRUE(store.Put(held, kNow).ok());
  ASSERT_TRUE(store.Put(expiring, kNow).ok());

  const Record bigger =
      MakeRecord("k", kNow + absl::Hours(9), "a much longer value", 2);
  const absl::Time later = kNow + absl::Hours(1);
  EXPECT_EQ(store.Put(bigger, later).value(), PutOutcome::kReplaced);
  EXPECT_EQ(store.stats().records, 1u);
  EXPECT_EQ(store.stats().bytes, bigger.footprint());
}

TEST(MemoryStoreTest, RefusalKeepsLiveRecordsEvenWhenExpiredOnesAreReclaimed) {
  const Record small = MakeRecord("s", kNow + absl::Minutes(1));
  MemoryStore store(MemoryStoreOptions{.max_bytes = 2 * small.footprint()});
  ASSERT_TRUE(store.Put(small, kNow).ok());
  ASSERT_TRUE(store.Put(MakeRecord("t", kNow + absl::Hours(9)), kNow).ok());
  const Record huge =
      MakeRecord("h", kNow + absl::Hours(9), std::string(kMaxValueBytes, 'v'));
  const absl::Time later = kNow + absl::Hours(1);
  EXPECT_EQ(store.Put(huge, later).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(store.Get("t", later).ok());
  EXPECT_EQ(store.stats().records, 1u);
}

TEST(MemoryStoreTest, ForEachOrdersManyRandomKeys) {
  std::mt19937_64 gen(42);
  std::uniform_int_distribution<int> byte(0, 255);
  MemoryStore store;
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    std::string key(1 + i % 20, '\0');
    for (char& c : key) c = static_cast<char>(byte(gen));
    if (store.Put(MakeRecord(key, kNow + absl::Hours(1)), kNow).value() ==
        PutOutcome::kStored) {
      keys.push_back(key);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> visited;
  store.ForEach(kNow, [&](const Record& r) { visited.push_back(r.key); });
  EXPECT_EQ(visited, keys);
}

}  // namespace
}  // namespace kad::storage

#include "dht/source_table.h"

#include <utility>

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

// A value that is live until `live_until`.
struct Value {
  int64_t live_until = 0;
  int tag = 0;
  bool IsIdle(int64_t now) const { return live_until <= now; }
};
using Table = SourceTable<Value>;

constexpr int64_t kNow = 1'000;

SourceKey Key(uint64_t n) { return {n, SourceKind::kIpv4Address}; }

// Inserts Key(n), live until `live_until`.
Table::Index Add(Table& table, uint64_t n, int64_t live_until,
                 int64_t now = kNow) {
  Table::Index i = table.Insert(Key(n), now);
  table.value(i) = {live_until, static_cast<int>(n)};
  return i;
}

TEST(SourceTableTest, StartsWithNoHeap) {
  Table table(16);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.MemoryBytes(), 0u);
  EXPECT_EQ(table.Find(Key(1)), Table::kNone);
  EXPECT_EQ(table.MemoryBytes(), 0u);
}

TEST(SourceTableTest, FindsWhatWasInserted) {
  Table table(16);
  Add(table, 1, kNow + 10);
  Add(table, 2, kNow + 10);
  ASSERT_NE(table.Find(Key(1)), Table::kNone);
  EXPECT_EQ(table.value(table.Find(Key(1))).tag, 1);
  EXPECT_EQ(table.value(table.Peek(Key(2))).tag, 2);
  EXPECT_EQ(table.Find(Key(3)), Table::kNone);
  EXPECT_EQ(table.Find({1, SourceKind::kIpv4Prefix}), Table::kNone);
}

TEST(SourceTableTest, ReusesAnIdleSlotBeforeGrowing) {
  Table table(16);
  for (uint64_t n = 0; n < 1000; ++n) {
    Add(table, n, kNow + static_cast<int64_t>(n) + 1, kNow + n);
  }
  // Each entry was idle by the time the next came.
  EXPECT_EQ(table.size(), 1u);
  EXPECT_NE(table.Find(Key(999)), Table::kNone);
  EXPECT_EQ(table.Find(Key(998)), Table::kNone);
  EXPECT_EQ(table.live_evictions(), 0u);
}

TEST(SourceTableTest, GrowsWithLiveEntriesUpToItsBound) {
  Table table(8);
  for (uint64_t n = 0; n < 8; ++n) Add(table, n, kNow + 100);
  EXPECT_EQ(table.size(), 8u);
  Add(table, 8, kNow + 100);
  EXPECT_EQ(table.size(), 8u);
  EXPECT_EQ(table.live_evictions(), 1u);
}

TEST(SourceTableTest, FullTableForgetsAnIdleEntryBeforeALiveOne) {
  Table table(4);
  Add(table, 0, kNow + 100);  // least recently used, live
  Add(table, 1, kNow);        // idle at kNow
  Add(table, 2, kNow + 100);
  Add(table, 3, kNow + 100);
  Add(table, 4, kNow + 100);
  EXPECT_NE(table.Find(Key(0)), Table::kNone);
  EXPECT_EQ(table.Find(Key(1)), Table::kNone);
  EXPECT_EQ(table.live_evictions(), 0u);
}

TEST(SourceTableTest, FullTableOfLiveEntriesForgetsALeastRecentlyUsedOne) {
  Table table(16);
  for (uint64_t n = 0; n < 16; ++n) Add(table, n, kNow + 100);
  for (uint64_t n = 0; n < 16; ++n) table.Find(Key(n));  // 0 is the oldest.
  // The four least recently used get a second chance; the fifth goes.
  Add(table, 16, kNow + 100);
  EXPECT_EQ(table.Find(Key(4)), Table::kNone);
  for (uint64_t n : {0, 1, 2, 3, 5, 15, 16}) {
    EXPECT_NE(table.Find(Key(n)), Table::kNone) << n;
  }
  EXPECT_EQ(table.live_evictions(), 1u);
}

TEST(SourceTableTest, PeekDoesNotProtectAnEntry) {
  Table table(2);
  Add(table, 0, kNow + 100);
  Add(table, 1, kNow + 100);
  table.Peek(Key(0));
  Add(table, 2, kNow + 100);  // 0 and 1 both get a second chance; 0 goes.
  EXPECT_EQ(table.Peek(Key(0)), Table::kNone);
}

TEST(SourceTableTest, NeverForgetsTheEntryItIsAskedToKeep) {
  Table table(2);
  Table::Index kept = Add(table, 0, kNow + 100);
  Add(table, 1, kNow + 100);
  for (uint64_t n = 2; n < 50; ++n) {
    Table::Index i = table.Insert(Key(n), kNow, kept);
    table.value(i) = {kNow + 100, static_cast<int>(n)};
    ASSERT_EQ(table.Peek(Key(0)), kept) << n;
  }
}

TEST(SourceTableTest, MovedTableKeepsItsEntries) {
  Table table(16);
  for (uint64_t n = 0; n < 10; ++n) Add(table, n, kNow + 100);
  Table moved = std::move(table);
  for (uint64_t n = 10; n < 16; ++n) Add(moved, n, kNow + 100);
  for (uint64_t n = 0; n < 16; ++n) {
    ASSERT_NE(moved.Find(Key(n)), Table::kNone) << n;
  }
}

TEST(SourceTableTest, MemoryStaysBoundedUnderAMillionDistinctKeys) {
  constexpr size_t kMax = 16'384;
  Table table(kMax);
  size_t peak = 0;
  for (uint64_t n = 0; n < 1'000'000; ++n) {
    Add(table, n, kNow + 100);  // All live: the worst case.
    peak = std::max(peak, table.MemoryBytes());
  }
  EXPECT_EQ(table.size(), kMax);
  // The bound the header states: slots, plus an index below 3 buckets per
  // entry of 5 bytes each, plus the fixed part.
  size_t slot_bytes = 8 + 8 + sizeof(Value) + 8;  // key, links, value, kind
  size_t bound = kMax * slot_bytes + (3 * kMax + 16) * 5 + 256;
  EXPECT_LE(peak, bound);
  // The most recent entries are all there.
  for (uint64_t n = 1'000'000 - 1'000; n < 1'000'000; ++n) {
    ASSERT_NE(table.Peek(Key(n)), Table::kNone) << n;
  }
}

}  // namespace
}  // namespace kad::dht

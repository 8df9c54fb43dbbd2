#include "dht/source_table.h"

#include <algorithm>
#include <utility>

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

// A value that is live until `live_until`.
struct Value {
  int64_t live_until = 0;
  int tag = 0;
  int64_t IdleAt() const { return live_until; }
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
  EXPECT_EQ(table.capacity(), 0u);
  EXPECT_EQ(table.MemoryBytes(), 0u);
  EXPECT_EQ(table.Find(Key(1)), Table::kNone);
}

TEST(SourceTableTest, FindsWhatWasInserted) {
  Table table(16);
  Add(table, 1, kNow + 10);
  Add(table, 2, kNow + 10);
  ASSERT_NE(table.Find(Key(1)), Table::kNone);
  EXPECT_EQ(table.value(table.Find(Key(1))).tag, 1);
  EXPECT_EQ(table.value(table.Find(Key(2))).tag, 2);
  EXPECT_EQ(table.Find(Key(3)), Table::kNone);
  EXPECT_EQ(table.Find({1, SourceKind::kIpv4Prefix}), Table::kNone);
  EXPECT_EQ(table.size(), 2u);
}

TEST(SourceTableTest, ReusesIdleSlotsInsteadOfGrowing) {
  Table table(1 << 16);
  for (uint64_t n = 0; n < 100'000; ++n) {
    // Each entry is idle by the time the next comes.
    Add(table, n, kNow + static_cast<int64_t>(n) + 1, kNow + n);
  }
  EXPECT_EQ(table.capacity(), Table::kWays);
  EXPECT_NE(table.Find(Key(99'999)), Table::kNone);
  EXPECT_EQ(table.live_evictions(), 0u);
}

TEST(SourceTableTest, GrowsWithLiveEntriesAndKeepsNearlyAll) {
  Table table(1 << 16);
  for (uint64_t n = 0; n < 1'000; ++n) Add(table, n, kNow + 100);
  EXPECT_GE(table.capacity(), 2'000u);
  EXPECT_LE(table.capacity(), 4'096u);
  int found = 0;
  for (uint64_t n = 0; n < 1'000; ++n) {
    Table::Index i = table.Find(Key(n));
    if (i == Table::kNone) continue;
    ++found;
    EXPECT_EQ(table.value(i).tag, static_cast<int>(n));
  }
  // A group can fill up before the table is half full; it then forgets
  // one entry. Rarely, with eight ways.
  EXPECT_EQ(found + table.live_evictions(), 1'000u);
  EXPECT_LT(table.live_evictions(), 50u);
}

// Fills a one-group table with live entries 0..kWays-1, entry n live until
// kNow + 10 * (n + 1) — except that entry `least` is live until kNow + 5.
Table OneFullGroup(uint64_t least) {
  Table table(Table::kWays);
  for (uint64_t n = 0; n < Table::kWays; ++n) {
    Add(table, n, n == least ? kNow + 5 : kNow + 10 * (n + 1));
  }
  return table;
}

TEST(SourceTableTest, FullGroupForgetsTheEntryHoldingLeastState) {
  Table table = OneFullGroup(/*least=*/3);
  Add(table, 100, kNow + 1'000);
  EXPECT_EQ(table.Find(Key(3)), Table::kNone);
  for (uint64_t n : {0, 1, 2, 4, 100}) {
    EXPECT_NE(table.Find(Key(n)), Table::kNone) << n;
  }
  EXPECT_EQ(table.live_evictions(), 1u);
  EXPECT_EQ(table.size(), Table::kWays);
}

TEST(SourceTableTest, FullGroupTakesAnIdleSlotFirst) {
  Table table = OneFullGroup(/*least=*/5);
  Add(table, 100, kNow + 1'000, /*now=*/kNow + 10);  // 0 and 5 are idle.
  EXPECT_EQ(table.live_evictions(), 0u);
  EXPECT_TRUE(table.Find(Key(0)) == Table::kNone ||
              table.Find(Key(5)) == Table::kNone);
}

TEST(SourceTableTest, NeverForgetsTheEntryItIsAskedToKeep) {
  Table table = OneFullGroup(/*least=*/0);
  SourceKey kept = Key(0);
  for (uint64_t n = 100; n < 150; ++n) {
    Table::Index i = table.Insert(Key(n), kNow, &kept);
    table.value(i) = {kNow + 1'000, static_cast<int>(n)};
    ASSERT_NE(table.Find(kept), Table::kNone) << n;
  }
}

TEST(SourceTableTest, MaxEntriesIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(Table(1).max_entries(), Table::kWays);
  EXPECT_EQ(Table(9).max_entries(), 16u);
  EXPECT_EQ(Table(1000).max_entries(), 1024u);
  EXPECT_EQ(Table(16'384).max_entries(), 16'384u);
}

TEST(SourceTableTest, SeedChangesPlacementNotContents) {
  Table a(1 << 12, /*seed=*/1);
  Table b(1 << 12, /*seed=*/2);
  for (uint64_t n = 0; n < 500; ++n) {
    Add(a, n, kNow + 100);
    Add(b, n, kNow + 100);
  }
  int moved = 0;
  for (uint64_t n = 0; n < 500; ++n) {
    Table::Index in_a = a.Find(Key(n));
    Table::Index in_b = b.Find(Key(n));
    if (in_a == Table::kNone || in_b == Table::kNone) continue;
    EXPECT_EQ(a.value(in_a).tag, b.value(in_b).tag);
    moved += in_a != in_b;
  }
  EXPECT_GT(moved, 400);
}

TEST(SourceTableTest, MemoryStaysBoundedUnderAMillionDistinctKeys) {
  constexpr size_t kMax = 16'384;
  Table table(kMax);
  size_t peak = 0;
  for (uint64_t n = 0; n < 1'000'000; ++n) {
    Add(table, n, kNow + 100);  // All live: the worst case.
    peak = std::max(peak, table.MemoryBytes());
  }
  EXPECT_EQ(table.capacity(), kMax);
  // The bound the header states: one slot per entry, no index.
  size_t slot_bytes = 8 + sizeof(Value) + 8;  // key, value, kind and flag
  EXPECT_LE(peak, kMax * slot_bytes);
  EXPECT_GT(table.size(), kMax * 9 / 10);
  // The newest entries are there.
  int found = 0;
  for (uint64_t n = 1'000'000 - 100; n < 1'000'000; ++n) {
    found += table.Find(Key(n)) != Table::kNone;
  }
  EXPECT_GE(found, 95);
}

}  // namespace
}  // namespace kad::dht

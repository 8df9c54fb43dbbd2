#include "dht/release_if_sparse.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

TEST(ReleaseIfSparseTest, FreesTheArrayOfAnEmptiedMap) {
  absl::flat_hash_map<int, int> map;
  for (int i = 0; i < 1000; ++i) map[i] = i;
  for (int i = 0; i < 1000; ++i) map.erase(i);
  ASSERT_GT(map.capacity(), 1000u);  // Erasing alone keeps the high water.
  ReleaseIfSparse(map);
  EXPECT_EQ(map.capacity(), 0u);
}

TEST(ReleaseIfSparseTest, FreesTheArrayOfAnEmptiedSmallMap) {
  absl::flat_hash_map<int, int> map;
  map[1] = 1;
  map.erase(1);
  ASSERT_GT(map.capacity(), 0u);
  ReleaseIfSparse(map);
  EXPECT_EQ(map.capacity(), 0u);
}

TEST(ReleaseIfSparseTest, LeavesASmallMapThatHoldsSomethingAlone) {
  absl::flat_hash_map<int, int> map;
  for (int i = 0; i < 10; ++i) map[i] = i;
  for (int i = 1; i < 10; ++i) map.erase(i);
  const size_t capacity = map.capacity();
  ASSERT_LE(capacity, kSmallHashCapacity);
  ReleaseIfSparse(map);
  EXPECT_EQ(map.capacity(), capacity);
}

TEST(ReleaseIfSparseTest, ShrinksASparseMapAndKeepsItsElements) {
  absl::flat_hash_set<int> set;
  for (int i = 0; i < 1000; ++i) set.insert(i);
  for (int i = 10; i < 1000; ++i) set.erase(i);
  ReleaseIfSparse(set);
  EXPECT_LE(set.capacity(), 31u);
  EXPECT_EQ(set.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(set.contains(i)) << i;
}

TEST(ReleaseIfSparseTest, LeavesAFairlyFullMapAlone) {
  absl::flat_hash_map<int, int> map;
  for (int i = 0; i < 1000; ++i) map[i] = i;
  for (int i = 0; i < 700; ++i) map.erase(i);
  const size_t capacity = map.capacity();
  ReleaseIfSparse(map);
  EXPECT_EQ(map.capacity(), capacity);
}

}  // namespace
}  // namespace kad::dht

#include "dht/token_bucket.h"

#include "gtest/gtest.h"

namespace kad::dht {
namespace {

const int64_t kNow = TokenBucket::Nanos(absl::FromUnixSeconds(1'700'000'000));
constexpr int64_t kSecond = 1'000'000'000;

// Takes `count` tokens one at a time at `now`; returns how many were allowed.
int TakeMany(const TokenBucket& bucket, int64_t& ready, int64_t now,
             int count) {
  int allowed = 0;
  for (int i = 0; i < count; ++i) {
    int64_t next = bucket.Next(ready, now);
    if (!bucket.Allowed(next, now)) continue;
    ready = next;
    ++allowed;
  }
  return allowed;
}

TEST(TokenBucketTest, FreshBucketAllowsExactlyItsBurst) {
  TokenBucket bucket(RateLimit{10, 50});
  int64_t ready = TokenBucket::kFull;
  EXPECT_EQ(TakeMany(bucket, ready, kNow, 80), 50);
}

TEST(TokenBucketTest, RefillsAtItsRate) {
  TokenBucket bucket(RateLimit{10, 50});
  int64_t ready = TokenBucket::kFull;
  TakeMany(bucket, ready, kNow, 50);
  EXPECT_EQ(TakeMany(bucket, ready, kNow + kSecond / 2, 80), 5);
  EXPECT_EQ(TakeMany(bucket, ready, kNow + 2 * kSecond, 80), 15);
  // Refilling stops at the burst.
  EXPECT_EQ(TakeMany(bucket, ready, kNow + 100 * kSecond, 80), 50);
}

TEST(TokenBucketTest, TakesCostsLargerThanOne) {
  TokenBucket bytes(RateLimit{1000, 1000});
  int64_t ready = TokenBucket::kFull;
  int64_t next = bytes.Next(ready, kNow, 700);
  ASSERT_TRUE(bytes.Allowed(next, kNow));
  ready = next;
  EXPECT_EQ(bytes.Available(ready, kNow), 300);
  EXPECT_FALSE(bytes.Allowed(bytes.Next(ready, kNow, 301), kNow));
  EXPECT_TRUE(bytes.Allowed(bytes.Next(ready, kNow, 300), kNow));
  EXPECT_EQ(bytes.Available(ready, kNow + kSecond / 10), 400);
}

TEST(TokenBucketTest, FullOnceReadyTimeHasPassed) {
  TokenBucket bucket(RateLimit{100, 2});
  int64_t ready = bucket.Next(TokenBucket::kFull, kNow);
  EXPECT_FALSE(TokenBucket::Full(ready, kNow));
  EXPECT_TRUE(TokenBucket::Full(ready, kNow + kSecond / 100));
  EXPECT_TRUE(TokenBucket::Full(TokenBucket::kFull, kNow));
}

TEST(TokenBucketTest, DefaultBucketNeverRefusesAndStaysFull) {
  TokenBucket unlimited;
  EXPECT_TRUE(unlimited.unlimited());
  int64_t ready = TokenBucket::kFull;
  EXPECT_EQ(TakeMany(unlimited, ready, kNow, 100'000), 100'000);
  EXPECT_TRUE(TokenBucket::Full(ready, kNow));
  EXPECT_TRUE(BucketFor(std::nullopt).unlimited());
  EXPECT_FALSE(BucketFor(RateLimit{1, 1}).unlimited());
}

TEST(TokenBucketTest, FullStateIsFullAtAnyTime) {
  TokenBucket bucket(RateLimit{10, 3});
  const int64_t before_epoch = -100 * kSecond;
  int64_t ready = TokenBucket::kFull;
  EXPECT_TRUE(TokenBucket::Full(ready, before_epoch));
  EXPECT_EQ(bucket.Available(ready, before_epoch), 3);
  EXPECT_EQ(TakeMany(bucket, ready, before_epoch, 5), 3);
}

TEST(TokenBucketTest, SlowRatesWork) {
  TokenBucket bucket(RateLimit{0.5, 1});  // One token every two seconds.
  int64_t ready = TokenBucket::kFull;
  EXPECT_EQ(TakeMany(bucket, ready, kNow, 3), 1);
  EXPECT_EQ(TakeMany(bucket, ready, kNow + kSecond, 3), 0);
  EXPECT_EQ(TakeMany(bucket, ready, kNow + 2 * kSecond, 3), 1);
}

}  // namespace
}  // namespace kad::dht

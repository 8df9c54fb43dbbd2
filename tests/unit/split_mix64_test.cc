#include "dht/split_mix64.h"

#include <random>

#include "absl/random/bit_gen_ref.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

TEST(SplitMix64Test, ProducesTheReferenceSequence) {
  // The reference implementation's first outputs from seed 0.
  SplitMix64 gen(0);
  EXPECT_EQ(gen(), 0xe220a8397b1dcdafu);
  EXPECT_EQ(gen(), 0x6e789e6aa1b965f4u);
  EXPECT_EQ(gen(), 0x06c45d188009454fu);
}

TEST(SplitMix64Test, SameSeedSameSequenceThroughABitGenRef) {
  SplitMix64 a(42), b(42);
  absl::BitGenRef ref(b);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a(), ref()) << i;
}

TEST(SplitMix64Test, WorksWithStandardDistributions) {
  SplitMix64 gen(7);
  std::uniform_int_distribution<int> die(1, 6);
  int counts[7] = {};
  for (int i = 0; i < 6000; ++i) ++counts[die(gen)];
  for (int face = 1; face <= 6; ++face) {
    EXPECT_GT(counts[face], 850) << face;
    EXPECT_LT(counts[face], 1150) << face;
  }
}

}  // namespace
}  // namespace kad::dht

#include "dht/csprng.h"

#include <set>

#include "absl/random/bit_gen_ref.h"
#include "absl/random/distributions.h"
#include "gtest/gtest.h"

namespace kad::dht {
namespace {

TEST(CsprngTest, DrawsDistinctValuesThroughABitGenRef) {
  Csprng csprng;
  absl::BitGenRef gen(csprng);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(absl::Uniform<uint64_t>(gen));
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace kad::dht

// SplitMix64: a small, fast 64-bit pseudo-random generator (Steele, Lea and
// Flood, "Fast splittable pseudorandom number generators", 2014; the
// seeding generator of xoshiro) — a node's source of transaction ids,
// token secrets and refresh targets.
//
// A node used to hold a std::mt19937_64: 2,504 bytes of state, a tenth of
// a simulated node's memory. This one is 8 bytes, passes BigCrush, and
// a seed reproduces its sequence on every platform. It is not a
// cryptographic generator (neither was mt19937_64).
//
// Satisfies UniformRandomBitGenerator; callees take it as absl::BitGenRef.
// Not thread-safe.
#ifndef KAD_DHT_SPLIT_MIX64_H_
#define KAD_DHT_SPLIT_MIX64_H_

#include <cstdint>
#include <limits>

namespace kad::dht {

class SplitMix64 {
 public:
  using result_type = uint64_t;

  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() {
    return std::numeric_limits<result_type>::max();
  }

  result_type operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_SPLIT_MIX64_H_

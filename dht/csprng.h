// Csprng: a uniform random bit generator over libsodium's CSPRNG
// (randombytes_buf), for the secrets of real nodes: write-token secrets
// and transaction ids. The node's SplitMix64 is fine for refresh targets
// and jitter, but its state can be recovered from a few observed outputs,
// and anyone who recovers it can predict token secrets and forge tokens.
// Simulations keep the seeded generator (NodeOptions::secrets).
//
// Stateless; thread-safe (libsodium's generator is).
#ifndef KAD_DHT_CSPRNG_H_
#define KAD_DHT_CSPRNG_H_

#include <cstdint>
#include <limits>

namespace kad::dht {

class Csprng {
 public:
  using result_type = uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() {
    return std::numeric_limits<result_type>::max();
  }
  // Returns 8 bytes from libsodium's CSPRNG.
  result_type operator()();
};

}  // namespace kad::dht

#endif  // KAD_DHT_CSPRNG_H_

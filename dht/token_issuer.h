// TokenIssuer: write tokens, as in BitTorrent's BEP 5.
//
// A node hands a token to every find_node/find_value requester; a later
// store must present a token this node issued to the same IP address
// within the last one to two rotation periods. A token is SipHash-2-4
// (libsodium crypto_shorthash) of the requester's address bytes under a
// secret that rotates every `rotation`; the previous secret stays valid
// for one more period. Tokens bind the IP only, not the port, as in BEP 5.
//
// Pure: time is passed in. Not thread-safe.
#ifndef KAD_DHT_TOKEN_ISSUER_H_
#define KAD_DHT_TOKEN_ISSUER_H_

#include <array>
#include <random>
#include <string>
#include <string_view>

#include "absl/random/bit_gen_ref.h"
#include "absl/time/time.h"
#include "net/endpoint.h"

namespace kad::dht {

class TokenIssuer {
 public:
  static constexpr size_t kTokenBytes = 8;

  TokenIssuer(absl::BitGenRef gen, absl::Duration rotation, absl::Time now);

  // Returns the current token for `requester`'s address.
  std::string Issue(const net::Endpoint& requester, absl::Time now);
  // Returns whether `token` was issued to `requester`'s address under the
  // current or the previous secret.
  bool Verify(std::string_view token, const net::Endpoint& requester,
              absl::Time now);

 private:
  using Secret = std::array<uint8_t, 16>;
  void RotateIfDue(absl::Time now);
  static std::string Compute(const Secret& secret,
                             const net::Endpoint& requester);

  absl::BitGenRef gen_;
  absl::Duration rotation_;
  absl::Time rotated_at_;
  Secret current_{};
  Secret previous_{};
};

}  // namespace kad::dht

#endif  // KAD_DHT_TOKEN_ISSUER_H_

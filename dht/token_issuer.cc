#include "dht/token_issuer.h"

#include <sodium.h>

#include <cstring>

namespace kad::dht {
namespace {

template <size_t N>
void Fill(std::array<uint8_t, N>& out, absl::BitGenRef gen) {
  for (auto& byte : out) byte = static_cast<uint8_t>(gen());
}

}  // namespace

TokenIssuer::TokenIssuer(absl::BitGenRef gen, absl::Duration rotation,
                         absl::Time now)
    : gen_(gen), rotation_(rotation), rotated_at_(now) {
  static_assert(crypto_shorthash_KEYBYTES == 16);
  static_assert(crypto_shorthash_BYTES == kTokenBytes);
  Fill(current_, gen_);
  Fill(previous_, gen_);
}

void TokenIssuer::RotateIfDue(absl::Time now) {
  if (now - rotated_at_ < rotation_) return;
  if (now - rotated_at_ >= 2 * rotation_) {
    Fill(previous_, gen_);  // After a long idle gap both secrets are stale.
  } else {
    previous_ = current_;
  }
  Fill(current_, gen_);
  rotated_at_ = now;
}

std::string TokenIssuer::Compute(const Secret& secret,
                                 const net::Endpoint& requester) {
  std::array<uint8_t, kTokenBytes> out{};
  auto address = requester.address();
  crypto_shorthash(out.data(), address.data(), address.size(), secret.data());
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

std::string TokenIssuer::Issue(const net::Endpoint& requester,
                               absl::Time now) {
  RotateIfDue(now);
  return Compute(current_, requester);
}

bool TokenIssuer::Verify(std::string_view token,
                         const net::Endpoint& requester, absl::Time now) {
  RotateIfDue(now);
  if (token.size() != kTokenBytes) return false;
  auto matches = [&](const Secret& secret) {
    std::string expected = Compute(secret, requester);
    return sodium_memcmp(expected.data(), token.data(), kTokenBytes) == 0;
  };
  return matches(current_) || matches(previous_);
}

}  // namespace kad::dht

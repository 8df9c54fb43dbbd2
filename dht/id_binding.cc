#include "dht/id_binding.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <span>

#include "net/subnet.h"

namespace kad::dht {
namespace {

constexpr char kDomain[] = "kad-id-binding-1";
constexpr uint8_t kRandomMask = (1 << kRandomBits) - 1;

std::span<const net::Subnet> NeverVerifiable() {
  static const net::Subnet kNever[] = {
      *net::Subnet::Parse("0.0.0.0/8"), *net::Subnet::Parse("127.0.0.0/8"),
      *net::Subnet::Parse("::/128"), *net::Subnet::Parse("::1/128")};
  return kNever;
}

// The carrier-grade NAT range (RFC 6598), besides net::PrivateSubnets().
const net::Subnet& SharedAddressSpace() {
  static const net::Subnet kShared = *net::Subnet::Parse("100.64.0.0/10");
  return kShared;
}

int PrefixLengthOf(const net::Endpoint& address,
                   const IdBindingOptions& options) {
  return address.family() == net::Family::kIpv4 ? options.ipv4_prefix_length
                                                : options.ipv6_prefix_length;
}

}  // namespace

bool Verifiable(const net::Endpoint& address, const IdBindingOptions& options) {
  if (net::AnyContains(NeverVerifiable(), address)) return false;
  if (options.verify_private) return true;
  return !net::AnyContains(net::PrivateSubnets(), address) &&
         !SharedAddressSpace().Contains(address);
}

uint32_t BoundPrefix(const net::Endpoint& address, uint8_t r,
                     const IdBindingOptions& options) {
  assert(r <= kRandomMask);
  const int length = PrefixLengthOf(address, options);
  std::span<const uint8_t> bytes = address.address();
  // Domain, family, length, at most 16 address bytes, r.
  std::array<uint8_t, sizeof(kDomain) - 1 + 3 + net::Endpoint::kIpv6Bytes>
      input{};
  size_t n = 0;
  for (size_t i = 0; i + 1 < sizeof(kDomain); ++i) {
    input[n++] = static_cast<uint8_t>(kDomain[i]);
  }
  input[n++] = static_cast<uint8_t>(address.family());
  input[n++] = static_cast<uint8_t>(length);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const int bits = std::clamp(length - static_cast<int>(8 * i), 0, 8);
    input[n++] = static_cast<uint8_t>(bytes[i] & (0xff00 >> bits));
  }
  input[n++] = r;
  std::array<uint8_t, crypto_generichash_BYTES> hash;
  crypto_generichash(hash.data(), hash.size(), input.data(), n, nullptr, 0);
  static_assert(kBoundBits == 24, "BoundPrefix returns whole bytes");
  return uint32_t{hash[0]} << 24 | uint32_t{hash[1]} << 16 |
         uint32_t{hash[2]} << 8;
}

NodeId BindTo(const NodeId& id, const net::Endpoint& address, uint8_t r,
              const IdBindingOptions& options) {
  std::array<uint8_t, NodeId::kBytes> bytes = id.bytes();
  const uint32_t prefix = BoundPrefix(address, r, options);
  bytes[0] = static_cast<uint8_t>(prefix >> 24);
  bytes[1] = static_cast<uint8_t>(prefix >> 16);
  bytes[2] = static_cast<uint8_t>(prefix >> 8);
  bytes[NodeId::kBytes - 1] =
      static_cast<uint8_t>((bytes[NodeId::kBytes - 1] & ~kRandomMask) | r);
  return NodeId(bytes);
}

NodeId RandomBoundId(const net::Endpoint& address,
                     const IdBindingOptions& options, absl::BitGenRef gen) {
  const NodeId random = NodeId::Random(gen);
  const uint8_t r = random.bytes()[NodeId::kBytes - 1] & kRandomMask;
  return BindTo(random, address, r, options);
}

IdCheck CheckId(const NodeId& id, const net::Endpoint& address,
                const IdBindingOptions& options) {
  if (!Verifiable(address, options)) return IdCheck::kUnverifiable;
  const uint8_t r = id.bytes()[NodeId::kBytes - 1] & kRandomMask;
  return BindTo(id, address, r, options) == id ? IdCheck::kVerified
                                               : IdCheck::kMismatch;
}

}  // namespace kad::dht

// SourceKey: the address prefix that request limits and reply budgets are
// counted by — one source address, or the prefix it sits in.
//
// Which prefixes, and why:
//   - IPv4: the /32 (one host, or one NAT) and its /24 (the smallest block
//     routed on the internet, and what one small network or hosting
//     customer usually holds).
//   - IPv6: the /64 and its /56. A /64 is one link, and every host is
//     handed a whole one (SLAAC), so limiting a /128 would let one host
//     change address per request; a /56 is what a residential customer is
//     typically delegated (RIPE-690), the IPv6 counterpart of a /24.
//   - An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket
//     reports IPv4 peers) is the IPv4 address it maps, so one host does not
//     get two sets of limits.
// The routing table's per-subnet limit uses the same /24 and /64.
//
// Thread-safe: immutable value types and pure functions.
#ifndef KAD_DHT_SOURCE_KEY_H_
#define KAD_DHT_SOURCE_KEY_H_

#include <cstdint>
#include <utility>

#include "net/endpoint.h"

namespace kad::dht {

enum class SourceKind : uint8_t {
  kIpv4Address = 0,  // a /32
  kIpv4Prefix = 1,   // a /24
  kIpv6Address = 2,  // a /64
  kIpv6Prefix = 3,   // a /56
};

inline constexpr int kIpv4PrefixBits = 24;
inline constexpr int kIpv6AddressBits = 64;
inline constexpr int kIpv6PrefixBits = 56;

// The leading bits of an address prefix, right-aligned in `bits` (the /24
// 10.1.2.0 is 0x0a0102), and which kind of prefix they are.
struct SourceKey {
  uint64_t bits = 0;
  SourceKind kind = SourceKind::kIpv4Address;

  friend bool operator==(const SourceKey&, const SourceKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const SourceKey& key) {
    return H::combine(std::move(h), key.bits, key.kind);
  }
};

// The keys one datagram's source is counted under.
struct SourceKeys {
  SourceKey address;      // the /32 or /64
  SourceKey prefix;       // the /24 or /56 around it
  bool loopback = false;  // 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104
};

// Returns the keys of `endpoint`'s address; the port does not matter.
SourceKeys KeysOf(const net::Endpoint& endpoint);

}  // namespace kad::dht

#endif  // KAD_DHT_SOURCE_KEY_H_

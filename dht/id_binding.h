// Id binding: a node id tied to the node's public address, so that one
// host cannot put its ids wherever it likes in the keyspace (the idea of
// BitTorrent's BEP 42; the derivation below is kad's own).
//
// Derivation
// ----------
// The address is masked to its first ipv4_prefix_length (default 24) or
// ipv6_prefix_length (default 48) bits: the unit one customer or site
// holds, so every host of one /24 (or /48) may bind ids to it, and an
// attacker with one /24 gets no more than a single host. Then, with r the
// low kRandomBits bits of the id's last byte (a value 0..7 the node picks
// at random):
//
//   h  = BLAKE2b-256("kad-id-binding-1" || family byte (4 or 6) ||
//                    prefix length byte || masked address bytes || r)
//   id = h's first kBoundBits bits || any bits || last byte with r in its
//        low kRandomBits bits
//
// An id verifies from an address when its first kBoundBits bits equal
// those of h for that address's prefix and the r its last byte carries.
// Everything else in the id is free, so a node picks it at random.
//
// Why these numbers: one prefix can reach only 2^kRandomBits = 8 values
// of the bound bits, so its ids all start with one of 8 fixed 24-bit
// strings; the best of them shares about 3 bits with a given key, while
// the k nodes closest to a key in a 10,000-node overlay share about 9 (23
// in a billion-node one): an attacker needs ~2^(L-3) prefixes to reach
// CPL L next to a key. BEP 42 binds 21 bits (CRC32-C); an unkeyed
// cryptographic hash costs nothing more here and cannot be steered. The
// /48 for IPv6 rather than the /64 of the per-prefix limits: a single
// customer is routinely given a /48 or /56, i.e. thousands of /64s.
//
// Verifiable addresses: an id can only be checked against the address it
// came from. Loopback and unspecified addresses are never verifiable; the
// private, link-local and CGNAT ranges (net::PrivateSubnets() and
// 100.64.0.0/10) are not either unless verify_private says the peers' real
// addresses lie there (a private network; the simulator, whose hosts are
// 10.x). Contacts at unverifiable addresses are exempt: neither verified
// nor refused.
//
// Thread-safe: pure functions over values.
#ifndef KAD_DHT_ID_BINDING_H_
#define KAD_DHT_ID_BINDING_H_

#include <cstdint>

#include "absl/random/bit_gen_ref.h"
#include "dht/node_id.h"
#include "net/endpoint.h"

namespace kad::dht {

struct IdBindingOptions {
  // Refuse contacts whose id does not verify from their (verifiable)
  // address: the routing table does not admit them, their answers do not
  // count in lookups, and contacts listed with such ids are dropped from
  // answers. Default off: many honest nodes share one public address
  // behind a NAT or CGNAT, and a node learns its address only after it
  // has joined (README, "Id binding").
  bool enforce = false;
  // Treat private, link-local and CGNAT addresses as verifiable. Default
  // off (they are not the peers' public addresses); benchmarks on the
  // simulator turn it on.
  bool verify_private = false;
  // How much of an address an id is bound to. Every node of an overlay
  // must use the same; only simulations change them (the simulator packs
  // 254 hosts into a /24 that on the Internet would be spread out).
  int ipv4_prefix_length = 24;  // 8 to 32
  int ipv6_prefix_length = 48;  // 16 to 128
};

// Bits of an id fixed by the address; bits of its last byte holding r.
inline constexpr int kBoundBits = 24;
inline constexpr int kRandomBits = 3;

enum class IdCheck : uint8_t {
  kVerified,      // The id is bound to the address.
  kUnverifiable,  // The address cannot be checked (see above): exempt.
  kMismatch,      // A verifiable address, an id not bound to it.
};

// Returns whether ids can be checked against `address` (its port does not
// matter).
bool Verifiable(const net::Endpoint& address, const IdBindingOptions& options);

// Checks `id` against `address`.
IdCheck CheckId(const NodeId& id, const net::Endpoint& address,
                const IdBindingOptions& options);

// Returns whether a contact with this check may be used: anything but a
// mismatch when enforcing.
inline bool Admissible(IdCheck check, const IdBindingOptions& options) {
  return !(options.enforce && check == IdCheck::kMismatch);
}

// Returns the kBoundBits bits that an id with random value `r` (0..7)
// must start with at `address`, as the top of a 32-bit word.
uint32_t BoundPrefix(const net::Endpoint& address, uint8_t r,
                     const IdBindingOptions& options);

// Returns `id` with its bound bits and r set for `address` and `r`
// (0..7); the other bits are kept.
NodeId BindTo(const NodeId& id, const net::Endpoint& address, uint8_t r,
              const IdBindingOptions& options);

// Draws a random id bound to `address`.
NodeId RandomBoundId(const net::Endpoint& address,
                     const IdBindingOptions& options, absl::BitGenRef gen);

}  // namespace kad::dht

#endif  // KAD_DHT_ID_BINDING_H_

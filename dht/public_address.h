// PublicAddress: what this node's public address is, by majority of what
// its peers report. Every response to find_node, find_value and ping
// carries the address the responder saw the request come from
// (docs/PROTOCOL.md, `observed`); a node behind a NAT learns its outside
// address this way, which it needs to bind its id to (dht/id_binding.h).
//
// Votes: one per reporting /24 (IPv4) or /64 (IPv6) — a later report from
// the same prefix replaces its earlier one — so one host, or one
// attacker's subnet, counts once however many ids or sockets it reports
// from. Reports of an address that ids cannot be verified against
// (loopback, private ranges; see Verifiable) are not kept: they could
// never bind an id. Ports are ignored (a NAT may map each flow to its
// own).
//
// Decision: the address with the most votes, once it has at least
// min_votes of them and more than half of all votes held. Until then,
// none.
//
// Memory: at most max_votes votes (each under 64 bytes); when full, a
// vote from a new prefix replaces the oldest one. Starts empty.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_PUBLIC_ADDRESS_H_
#define KAD_DHT_PUBLIC_ADDRESS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "dht/id_binding.h"
#include "net/endpoint.h"
#include "net/subnet.h"

namespace kad::dht {

struct PublicAddressOptions {
  int min_votes = 3;   // Votes the winner needs; at least 1.
  int max_votes = 16;  // Votes kept; at least min_votes.
};

class PublicAddress {
 public:
  // `binding` says which addresses are verifiable; copied.
  PublicAddress(PublicAddressOptions options, IdBindingOptions binding);

  // Records that the peer at `reporter` saw us at `observed`.
  void Report(const net::Endpoint& reporter, const net::Endpoint& observed);

  // Returns the address decided by majority (port 0), or nullopt.
  std::optional<net::Endpoint> Decided() const;

  // Returns the number of votes held.
  size_t votes() const { return votes_.size(); }

 private:
  struct Vote {
    net::Subnet voter;         // The reporter's /24 or /64.
    net::Endpoint observed;    // Port 0.
    uint64_t order = 0;        // When it was cast; larger is newer.
  };

  PublicAddressOptions options_;
  IdBindingOptions binding_;
  std::vector<Vote> votes_;  // At most max_votes.
  uint64_t next_order_ = 0;
};

}  // namespace kad::dht

#endif  // KAD_DHT_PUBLIC_ADDRESS_H_

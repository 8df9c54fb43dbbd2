// Subnet: an IPv4 or IPv6 address prefix ("10.0.0.0/8", "fd00::/8"), as a
// small regular value, for access lists such as NodeOptions::stats_allow.
//
// Invariant: the address bits past the prefix length are zero, so equal
// subnets compare equal.
//
// Thread-safe: immutable value type.
#ifndef KAD_NET_SUBNET_H_
#define KAD_NET_SUBNET_H_

#include <compare>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "net/endpoint.h"

namespace kad::net {

class Subnet {
 public:
  // Parses "ADDRESS/LENGTH" (LENGTH 0-32 for IPv4, 0-128 for IPv6) or a
  // bare address, which is the subnet of that one address. Returns
  // InvalidArgument naming the input if it is not numeric, the length is
  // out of range, or bits past the length are set ("10.1.0.0/8").
  static absl::StatusOr<Subnet> Parse(std::string_view text);
  // Returns the subnet of the first `prefix_length` bits of `endpoint`'s
  // address (the rest cleared). `prefix_length` must fit the family.
  static Subnet Of(const Endpoint& endpoint, int prefix_length);

  // Returns true if `endpoint`'s address (the port does not matter) lies in
  // this subnet. An IPv4 subnet contains no IPv6 address and vice versa.
  bool Contains(const Endpoint& endpoint) const;

  Family family() const { return base_.family(); }
  int prefix_length() const { return prefix_length_; }
  // "10.0.0.0/8", "fd00::/8".
  std::string ToString() const;

  friend auto operator<=>(const Subnet&, const Subnet&) = default;
  friend bool operator==(const Subnet&, const Subnet&) = default;

 private:
  Subnet(Endpoint base, int prefix_length)
      : base_(base), prefix_length_(prefix_length) {}

  Endpoint base_;  // The first address of the subnet, port 0.
  int prefix_length_ = 0;
};

// Per-prefix limits against Sybils count addresses that share a /24 (IPv4)
// or a /64 (IPv6) as one host's neighbourhood (one customer, one site).
inline constexpr int kSybilPrefixIpv4 = 24;
inline constexpr int kSybilPrefixIpv6 = 64;

// Returns whether `a` and `b` share a /24 (IPv4) or a /64 (IPv6); addresses
// of different families never do. Ports do not matter.
bool SamePrefix(const Endpoint& a, const Endpoint& b);

// Returns whether some subnet of `subnets` contains `endpoint`.
bool AnyContains(std::span<const Subnet> subnets, const Endpoint& endpoint);

// 127.0.0.0/8 and ::1/128: the default exemption from per-prefix limits, so
// local overlays of thousands of nodes on one host keep working.
std::span<const Subnet> LoopbackSubnets();
// The private and link-local ranges (10.0.0.0/8, 172.16.0.0/12,
// 192.168.0.0/16, 169.254.0.0/16, fc00::/7, fe80::/10): exempt from
// per-prefix limits only where a deployment says its peers there are
// distinct hosts (a LAN, a testbed).
std::span<const Subnet> PrivateSubnets();

}  // namespace kad::net

#endif  // KAD_NET_SUBNET_H_

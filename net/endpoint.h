// Endpoint: a UDP address (IPv4 or IPv6) and port, as a small regular value.
//
// This is the only address type that crosses module boundaries; raw
// sockaddr structures stay inside the libuv transport. On the wire an
// endpoint is encoded as [family, address bytes, port] (see
// docs/PROTOCOL.md), never as sockaddr bytes.
//
// Thread-safe: immutable value type.
#ifndef KAD_NET_ENDPOINT_H_
#define KAD_NET_ENDPOINT_H_

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"

namespace kad::net {

enum class Family : uint8_t { kIpv4 = 4, kIpv6 = 6 };

class Endpoint {
 public:
  static constexpr size_t kIpv4Bytes = 4;
  static constexpr size_t kIpv6Bytes = 16;

  // Constructs 0.0.0.0:0.
  Endpoint() = default;

  // Builds an endpoint from raw network-order address bytes: 4 bytes for
  // IPv4, 16 for IPv6. Returns InvalidArgument for any other length.
  static absl::StatusOr<Endpoint> FromBytes(std::span<const uint8_t> address,
                                            uint16_t port);
  static Endpoint Ipv4(std::array<uint8_t, 4> address, uint16_t port);
  static Endpoint Ipv6(std::array<uint8_t, 16> address, uint16_t port);

  // Parses a numeric "A.B.C.D:PORT" or "[V6]:PORT". Host names are not
  // resolved here (see net/resolve.h). Returns InvalidArgument with a
  // message naming the input on failure.
  static absl::StatusOr<Endpoint> Parse(std::string_view text);

  Family family() const { return family_; }
  uint16_t port() const { return port_; }
  // Returns the address bytes: 4 for IPv4, 16 for IPv6.
  std::span<const uint8_t> address() const {
    return {address_.data(), family_ == Family::kIpv4 ? kIpv4Bytes : kIpv6Bytes};
  }
  bool is_loopback() const;
  // Returns true for loopback and private/link-local ranges. (The
  // per-prefix limits against Sybils do not use it: they exempt what
  // NodeOptions::prefix_limit_exempt lists, loopback by default.)
  bool is_local() const;

  // Returns the same address with another port.
  Endpoint WithPort(uint16_t port) const;

  // "127.0.0.1:4222" or "[::1]:4222".
  std::string ToString() const;
  // The address without the port: "127.0.0.1" or "::1".
  std::string AddressString() const;

  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(std::move(h), e.family_, e.address_, e.port_);
  }
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const Endpoint& e) {
    sink.Append(e.ToString());
  }

 private:
  Family family_ = Family::kIpv4;
  std::array<uint8_t, 16> address_{};  // IPv4 uses the first 4 bytes.
  uint16_t port_ = 0;
};

}  // namespace kad::net

#endif  // KAD_NET_ENDPOINT_H_

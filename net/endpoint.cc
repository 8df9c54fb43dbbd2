#include "net/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kad::net {

absl::StatusOr<Endpoint> Endpoint::FromBytes(std::span<const uint8_t> address,
                                             uint16_t port) {
  Endpoint e;
  if (address.size() == kIpv4Bytes) {
    e.family_ = Family::kIpv4;
  } else if (address.size() == kIpv6Bytes) {
    e.family_ = Family::kIpv6;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("address must be 4 or 16 bytes, got ", address.size()));
  }
  std::copy(address.begin(), address.end(), e.address_.begin());
  e.port_ = port;
  return e;
}

// Ipv4 and Ipv6 cannot fail, so they skip FromBytes's StatusOr: the routing
// table builds an Endpoint for every contact it hands out.
Endpoint Endpoint::Ipv4(std::array<uint8_t, 4> address, uint16_t port) {
  Endpoint e;
  std::copy(address.begin(), address.end(), e.address_.begin());
  e.port_ = port;
  return e;
}

Endpoint Endpoint::Ipv6(std::array<uint8_t, 16> address, uint16_t port) {
  Endpoint e;
  e.family_ = Family::kIpv6;
  e.address_ = address;
  e.port_ = port;
  return e;
}

absl::StatusOr<Endpoint> Endpoint::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad address '", std::string(text), "': ", std::string(why),
                     " (expected A.B.C.D:PORT or [IPV6]:PORT)"));
  };
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return bad("unterminated IPv6 brackets or missing port");
    }
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return bad("IPv6 addresses need brackets");
    }
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(),
                                   port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  Endpoint e;
  e.port_ = static_cast<uint16_t>(port);
  if (inet_pton(AF_INET, host.c_str(), e.address_.data()) == 1) {
    e.family_ = Family::kIpv4;
    return e;
  }
  if (inet_pton(AF_INET6, host.c_str(), e.address_.data()) == 1) {
    e.family_ = Family::kIpv6;
    return e;
  }
  return bad("not a numeric IPv4 or IPv6 address");
}

bool Endpoint::is_loopback() const {
  if (family_ == Family::kIpv4) return address_[0] == 127;
  static constexpr std::array<uint8_t, 16> kV6Loopback = {0, 0, 0, 0, 0, 0,
                                                          0, 0, 0, 0, 0, 0,
                                                          0, 0, 0, 1};
  return address_ == kV6Loopback;
}

bool Endpoint::is_local() const {
  if (is_loopback()) return true;
  const auto& a = address_;
  if (family_ == Family::kIpv4) {
    return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
           (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254);
  }
  return (a[0] & 0xfe) == 0xfc ||                 // fc00::/7 unique local
         (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);  // fe80::/10 link local
}

Endpoint Endpoint::WithPort(uint16_t port) const {
  Endpoint e = *this;
  e.port_ = port;
  return e;
}

std::string Endpoint::AddressString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_ == Family::kIpv4 ? AF_INET : AF_INET6, address_.data(),
            buf, sizeof(buf));
  return buf;
}

std::string Endpoint::ToString() const {
  if (family_ == Family::kIpv4) return absl::StrCat(AddressString(), ":", port_);
  return absl::StrCat("[", AddressString(), "]:", port_);
}

}  // namespace kad::net

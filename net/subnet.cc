#include "net/subnet.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kad::net {
namespace {

// Returns whether the first `bits` bits of `a` and `b` agree.
bool PrefixMatches(std::span<const uint8_t> a, std::span<const uint8_t> b,
                   int bits) {
  const size_t whole = static_cast<size_t>(bits / 8);
  for (size_t i = 0; i < whole; ++i) {
    if (a[i] != b[i]) return false;
  }
  if (bits % 8 == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - bits % 8));
  return (a[whole] & mask) == (b[whole] & mask);
}

// Returns whether any bit of `address` past the first `bits` is set.
bool HostBitsSet(std::span<const uint8_t> address, int bits) {
  for (size_t i = 0; i < address.size(); ++i) {
    const int kept = std::clamp(bits - static_cast<int>(i) * 8, 0, 8);
    if ((address[i] & (0xff >> kept)) != 0) return true;
  }
  return false;
}

absl::StatusOr<Endpoint> ParseAddress(const std::string& host) {
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET, host.c_str(), bytes.data()) == 1) {
    return Endpoint::FromBytes(std::span(bytes).first(Endpoint::kIpv4Bytes), 0);
  }
  if (inet_pton(AF_INET6, host.c_str(), bytes.data()) == 1) {
    return Endpoint::FromBytes(bytes, 0);
  }
  return absl::InvalidArgumentError("not a numeric IPv4 or IPv6 address");
}

}  // namespace

absl::StatusOr<Subnet> Subnet::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad subnet '", std::string(text), "': ", std::string(why),
                     " (expected e.g. 10.0.0.0/8 or fd00::/8)"));
  };
  const size_t slash = text.find('/');
  absl::StatusOr<Endpoint> base =
      ParseAddress(std::string(text.substr(0, slash)));
  if (!base.ok()) return bad(std::string(base.status().message()));
  const int max_length = base->family() == Family::kIpv4 ? 32 : 128;
  int length = max_length;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || ec != std::errc() ||
        end != digits.data() + digits.size() || length < 0 ||
        length > max_length) {
      return bad(absl::StrCat("prefix length must be a number from 0 to ",
                              max_length));
    }
  }
  if (HostBitsSet(base->address(), length)) {
    return bad(
        absl::StrCat("address has bits set past the /", length, " prefix"));
  }
  return Subnet(*base, length);
}

Subnet Subnet::Of(const Endpoint& endpoint, int prefix_length) {
  const int max_length = endpoint.family() == Family::kIpv4 ? 32 : 128;
  assert(prefix_length >= 0 && prefix_length <= max_length);
  (void)max_length;
  std::array<uint8_t, Endpoint::kIpv6Bytes> bytes{};
  std::span<const uint8_t> address = endpoint.address();
  for (size_t i = 0; i < address.size(); ++i) {
    const int kept = std::clamp(prefix_length - static_cast<int>(i) * 8, 0, 8);
    bytes[i] = static_cast<uint8_t>(address[i] & ~(0xff >> kept));
  }
  absl::StatusOr<Endpoint> base =
      Endpoint::FromBytes(std::span(bytes).first(address.size()), 0);
  return Subnet(*base, prefix_length);
}

bool Subnet::Contains(const Endpoint& endpoint) const {
  return endpoint.family() == base_.family() &&
         PrefixMatches(endpoint.address(), base_.address(), prefix_length_);
}

std::string Subnet::ToString() const {
  return absl::StrCat(base_.AddressString(), "/", prefix_length_);
}

bool SamePrefix(const Endpoint& a, const Endpoint& b) {
  if (a.family() != b.family()) return false;
  const int bits =
      a.family() == Family::kIpv4 ? kSybilPrefixIpv4 : kSybilPrefixIpv6;
  return PrefixMatches(a.address(), b.address(), bits);
}

bool AnyContains(std::span<const Subnet> subnets, const Endpoint& endpoint) {
  return std::any_of(subnets.begin(), subnets.end(),
                     [&](const Subnet& s) { return s.Contains(endpoint); });
}

std::span<const Subnet> LoopbackSubnets() {
  static const Subnet kLoopback[] = {*Subnet::Parse("127.0.0.0/8"),
                                     *Subnet::Parse("::1/128")};
  return kLoopback;
}

std::span<const Subnet> PrivateSubnets() {
  static const Subnet kPrivate[] = {
      *Subnet::Parse("10.0.0.0/8"),     *Subnet::Parse("172.16.0.0/12"),
      *Subnet::Parse("192.168.0.0/16"), *Subnet::Parse("169.254.0.0/16"),
      *Subnet::Parse("fc00::/7"),       *Subnet::Parse("fe80::/10")};
  return kPrivate;
}

}  // namespace kad::net

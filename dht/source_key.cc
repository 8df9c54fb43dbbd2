#include "dht/source_key.h"

#include <span>

namespace kad::dht {
namespace {

uint64_t BigEndian(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (uint8_t b : bytes) value = (value << 8) | b;
  return value;
}

SourceKeys Ipv4Keys(uint64_t address) {
  return {{address, SourceKind::kIpv4Address},
          {address >> (32 - kIpv4PrefixBits), SourceKind::kIpv4Prefix},
          (address >> 24) == 127};
}

bool IsIpv4Mapped(std::span<const uint8_t> a) {
  for (int i = 0; i < 10; ++i) {
    if (a[i] != 0) return false;
  }
  return a[10] == 0xff && a[11] == 0xff;
}

}  // namespace

SourceKeys KeysOf(const net::Endpoint& endpoint) {
  std::span<const uint8_t> a = endpoint.address();
  if (endpoint.family() == net::Family::kIpv4) {
    return Ipv4Keys(BigEndian(a));
  }
  if (IsIpv4Mapped(a)) return Ipv4Keys(BigEndian(a.subspan(12)));
  uint64_t top = BigEndian(a.first(8));
  return {{top >> (64 - kIpv6AddressBits), SourceKind::kIpv6Address},
          {top >> (64 - kIpv6PrefixBits), SourceKind::kIpv6Prefix},
          endpoint.is_loopback()};
}

}  // namespace kad::dht

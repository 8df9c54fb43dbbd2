#include "dht/node_id.h"

#include <sodium.h>

#include <bit>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace kad::dht {
namespace {

// libsodium must be initialised before use; once per process suffices.
[[maybe_unused]] const int kSodiumReady = sodium_init();

}  // namespace

absl::StatusOr<NodeId> NodeId::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("node id must be ", kBytes, " bytes, got ", bytes.size()));
  }
  NodeId id;
  std::copy(bytes.begin(), bytes.end(), id.bytes_.begin());
  return id;
}

absl::StatusOr<NodeId> NodeId::FromHex(std::string_view hex) {
  auto bad = absl::InvalidArgumentError(absl::StrCat(
      "bad id '", std::string(hex), "': expected ", 2 * kBytes, " hex digits"));
  if (hex.size() != 2 * kBytes) return bad;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return bad;
  }
  std::string raw = absl::HexStringToBytes(std::string(hex));
  return FromBytes({reinterpret_cast<const uint8_t*>(raw.data()), raw.size()});
}

NodeId NodeId::ForKey(std::string_view key) {
  NodeId id;
  crypto_generichash(id.bytes_.data(), kBytes,
                     reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), nullptr, 0);
  return id;
}

NodeId NodeId::Random(absl::BitGenRef gen) {
  NodeId id;
  for (size_t i = 0; i < kBytes; i += 8) {
    uint64_t word = gen();
    for (size_t j = 0; j < 8 && i + j < kBytes; ++j) {
      id.bytes_[i + j] = static_cast<uint8_t>(word >> (8 * j));
    }
  }
  return id;
}

NodeId NodeId::RandomWithPrefix(const NodeId& base, int prefix_bits,
                                absl::BitGenRef gen) {
  if (prefix_bits >= kBits) return base;
  NodeId id = Random(gen);
  for (int i = 0; i <= prefix_bits; ++i) {
    // Copy the shared prefix; flip the bit right after it.
    bool bit = (i < prefix_bits) ? base.Bit(i) : !base.Bit(i);
    uint8_t mask = static_cast<uint8_t>(1u << (7 - i % 8));
    if (bit) {
      id.bytes_[i / 8] |= mask;
    } else {
      id.bytes_[i / 8] &= static_cast<uint8_t>(~mask);
    }
  }
  return id;
}

NodeId NodeId::DistanceTo(const NodeId& other) const {
  NodeId d;
  for (size_t i = 0; i < kBytes; ++i) d.bytes_[i] = bytes_[i] ^ other.bytes_[i];
  return d;
}

int NodeId::CommonPrefixLength(const NodeId& other) const {
  for (size_t i = 0; i < kBytes; ++i) {
    uint8_t x = bytes_[i] ^ other.bytes_[i];
    if (x != 0) return static_cast<int>(i * 8) + std::countl_zero(x);
  }
  return kBits;
}

std::string NodeId::ToHex() const {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
}

}  // namespace kad::dht

// NodeId: a 160-bit position in the Kademlia keyspace, used both for node
// ids and for key ids. Distances are XOR values, themselves NodeIds, that
// compare as big-endian unsigned integers.
//
// A key's id is BLAKE2b-160 of the key bytes (libsodium), so nobody can
// steer a key to a chosen position with crafted collisions.
//
// Thread-safe: immutable value type.
#ifndef KAD_DHT_NODE_ID_H_
#define KAD_DHT_NODE_ID_H_

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"

namespace kad::dht {

// An XOR distance as big-endian words: compared as integers, it orders
// exactly as the distance's bytes do, a word at a time (routing tables and
// lookups sort by it on every datagram; a memcmp call per comparison was
// a tenth of a simulated join).
struct DistanceKey {
  uint64_t high = 0;
  uint64_t middle = 0;
  uint32_t low = 0;

  friend bool operator==(const DistanceKey&, const DistanceKey&) = default;
  friend bool operator<(const DistanceKey& a, const DistanceKey& b) {
    if (a.high != b.high) return a.high < b.high;
    if (a.middle != b.middle) return a.middle < b.middle;
    return a.low < b.low;
  }
};

class NodeId {
 public:
  static constexpr size_t kBytes = 20;
  static constexpr int kBits = 160;

  // The all-zero id.
  NodeId() = default;
  explicit NodeId(const std::array<uint8_t, kBytes>& bytes) : bytes_(bytes) {}

  // Returns InvalidArgument unless `bytes` is exactly 20 bytes.
  static absl::StatusOr<NodeId> FromBytes(std::span<const uint8_t> bytes);
  // Parses exactly 40 hex digits (either case).
  static absl::StatusOr<NodeId> FromHex(std::string_view hex);
  // Returns BLAKE2b-160 of `key`: the keyspace position of a record key.
  static NodeId ForKey(std::string_view key);
  // Draws a uniformly random id from `gen`.
  static NodeId Random(absl::BitGenRef gen);
  // Draws a random id whose common prefix with `base` is exactly
  // `prefix_bits` long (0 <= prefix_bits < 160): a random point in the
  // bucket at that prefix length. With prefix_bits == 160, returns base.
  static NodeId RandomWithPrefix(const NodeId& base, int prefix_bits,
                                 absl::BitGenRef gen);

  const std::array<uint8_t, kBytes>& bytes() const { return bytes_; }
  std::span<const uint8_t> span() const { return bytes_; }

  // Returns the XOR distance to `other`.
  NodeId DistanceTo(const NodeId& other) const;
  // Returns the XOR distance to `other` as a DistanceKey (byte swaps
  // commute with XOR: one load and one swap per word).
  DistanceKey DistanceKeyTo(const NodeId& other) const {
    static_assert(kBytes == 20, "DistanceKey covers 160 bits");
    return {BigEndian<uint64_t>(0) ^ other.BigEndian<uint64_t>(0),
            BigEndian<uint64_t>(8) ^ other.BigEndian<uint64_t>(8),
            BigEndian<uint32_t>(16) ^ other.BigEndian<uint32_t>(16)};
  }
  // Returns the number of leading bits shared with `other` (160 if equal).
  int CommonPrefixLength(const NodeId& other) const;
  // Returns bit `i`, counting from the most significant bit (0..159).
  bool Bit(int i) const { return (bytes_[i / 8] >> (7 - i % 8)) & 1; }

  std::string ToHex() const;
  // The first 8 hex digits, for logs.
  std::string ShortHex() const { return ToHex().substr(0, 8); }

  // Byte-wise order (ids as big-endian numbers), compared a word at a
  // time: lookups order their shortlists by distance ids on every reply,
  // and the byte-wise default (a memcmp call) was 11 % of a simulated join.
  friend std::strong_ordering operator<=>(const NodeId& a, const NodeId& b) {
    using W64 = uint64_t;
    if (auto c = a.BigEndian<W64>(0) <=> b.BigEndian<W64>(0); c != 0) return c;
    if (auto c = a.BigEndian<W64>(8) <=> b.BigEndian<W64>(8); c != 0) return c;
    return a.BigEndian<uint32_t>(16) <=> b.BigEndian<uint32_t>(16);
  }
  // Word-wise too: the default is a memcmp call, and routing-table scans
  // compare ids on every datagram.
  friend bool operator==(const NodeId& a, const NodeId& b) {
    return ((a.Raw<uint64_t>(0) ^ b.Raw<uint64_t>(0)) |
            (a.Raw<uint64_t>(8) ^ b.Raw<uint64_t>(8)) |
            (a.Raw<uint32_t>(16) ^ b.Raw<uint32_t>(16))) == 0;
  }

  template <typename H>
  friend H AbslHashValue(H h, const NodeId& id) {
    return H::combine(std::move(h), id.bytes_);
  }
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const NodeId& id) {
    sink.Append(id.ToHex());
  }

 private:
  // Bytes [offset, offset + sizeof(Word)) in native byte order.
  template <typename Word>
  Word Raw(size_t offset) const {
    Word word;
    std::memcpy(&word, bytes_.data() + offset, sizeof(word));
    return word;
  }

  // The big-endian number in bytes [offset, offset + sizeof(Word)).
  template <typename Word>
  Word BigEndian(size_t offset) const {
    static_assert(sizeof(Word) == 4 || sizeof(Word) == 8);
    Word word = Raw<Word>(offset);
    if constexpr (std::endian::native == std::endian::little) {
      if constexpr (sizeof(Word) == 8) {
        word = __builtin_bswap64(word);
      } else {
        word = __builtin_bswap32(word);
      }
    }
    return word;
  }

  std::array<uint8_t, kBytes> bytes_{};
};

// Orders ids by XOR distance to a fixed target; ties cannot occur between
// distinct ids (XOR with the same target is a bijection).
struct CloserTo {
  NodeId target;
  bool operator()(const NodeId& a, const NodeId& b) const {
    return a.DistanceTo(target) < b.DistanceTo(target);
  }
};

}  // namespace kad::dht

#endif  // KAD_DHT_NODE_ID_H_

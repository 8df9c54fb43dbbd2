// Record: one key's value as stored and replicated by the DHT.
//
// A record is plain data: the key and value are bytes (std::string used as
// a byte container), `seq` orders versions (higher wins), `expires` is the
// absolute time after which no node serves it. Storage knows nothing about
// the wire; dht/wire_codec translates `expires` to a relative TTL.
//
// Three kinds (docs/PROTOCOL.md, "Records"):
//  - open: `key` is whatever the publisher chose; anyone may replace it.
//  - signed: `key` is the 20-byte address BLAKE2b-160("kad-signed-v1",
//    public_key, name); `signature` is the owner's ed25519 signature over
//    the name, seq and value. Only the owner can make a new version.
//  - immutable: `key` is BLAKE2b-160("kad-immutable-v1", value); seq is 0.
// Storage only keeps these fields; the proofs are checked by
// dht/record_auth.h (storage links no crypto).
//
// Version order (the rule every replica applies, so all converge on the
// same record): a signed or immutable record beats an open one at the same
// key (an open record can never displace a proven one); then higher seq
// wins; on equal seq, the larger XXH3-128 digest wins; equal digests mean
// the same record. The digest covers the value and, for signed and
// immutable records, the kind, public key and signature.
#ifndef KAD_STORAGE_RECORD_H_
#define KAD_STORAGE_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kad::storage {

// Size limits chosen so that any message carrying a record stays under the
// 1,280-byte datagram budget (see docs/PROTOCOL.md).
inline constexpr size_t kMaxKeyBytes = 128;
inline constexpr size_t kMaxValueBytes = 1000;
// A signed record carries a 32-byte public key and a 64-byte signature
// beside its name, and a store may carry an expected seq: its value limit
// is lower (a store of the largest signed record, with a 128-byte name, a
// 32-byte token and an expected seq, would fit with 959 bytes).
inline constexpr size_t kMaxSignedValueBytes = 950;
inline constexpr size_t kMaxNameBytes = kMaxKeyBytes;
inline constexpr size_t kAddressBytes = 20;       // BLAKE2b-160.
inline constexpr size_t kPublicKeyBytes = 32;     // ed25519.
inline constexpr size_t kSignatureBytes = 64;     // ed25519.
// Records never live longer than this, whatever TTL a publisher asks for.
inline constexpr absl::Duration kMaxTtl = absl::Hours(7 * 24);
inline constexpr absl::Duration kDefaultTtl = absl::Hours(24);

// Wire and disk values; never renumber.
enum class RecordKind : uint8_t {
  kOpen = 0,
  kSigned = 1,
  kImmutable = 2,
};
// Returns "open", "signed" or "immutable".
const char* RecordKindName(RecordKind kind);

struct Record {
  std::string key;
  std::string value;
  uint64_t seq = 0;
  absl::Time expires = absl::InfinitePast();
  RecordKind kind = RecordKind::kOpen;
  // Signed records only (empty otherwise).
  std::string name{};
  std::string public_key{};  // kPublicKeyBytes.
  std::string signature{};   // kSignatureBytes.

  // Approximate bytes this record occupies, for quotas.
  size_t footprint() const {
    return key.size() + value.size() + name.size() + public_key.size() +
           signature.size() + 32;
  }
  friend bool operator==(const Record&, const Record&) = default;
};

// 128-bit XXH3 digest of a record's value, big-endian halves.
struct RecordDigest {
  uint64_t high = 0;
  uint64_t low = 0;
  friend auto operator<=>(const RecordDigest&, const RecordDigest&) = default;
  friend bool operator==(const RecordDigest&, const RecordDigest&) = default;
};
RecordDigest DigestOf(const Record& record);

// A record's rank in the version order: compare with <=>, the greater
// wins. Replication compares versions without the value (dht/replicator.h).
struct RecordVersion {
  uint64_t seq = 0;
  RecordDigest digest;
  friend auto operator<=>(const RecordVersion&, const RecordVersion&) = default;
  friend bool operator==(const RecordVersion&, const RecordVersion&) = default;
};
RecordVersion VersionOf(const Record& record);

// Returns true if `candidate` should replace `current` under the version
// order above (strictly newer; identical records return false).
bool Supersedes(const Record& candidate, const Record& current);

// Returns InvalidArgument naming the limit if a value of `size` bytes is
// too large for a record of `kind`.
absl::Status ValidateValueSize(RecordKind kind, size_t size);

// Returns InvalidArgument with a message naming the limit if the key is
// empty or too long, or the value too long (kMaxSignedValueBytes for a
// signed record), or a signed or immutable record's fixed-size fields have
// the wrong size. Checks sizes only: dht/record_auth.h checks proofs.
absl::Status ValidateRecordSize(const Record& record);

}  // namespace kad::storage

#endif  // KAD_STORAGE_RECORD_H_

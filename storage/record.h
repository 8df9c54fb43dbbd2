// Record: one key's value as stored and replicated by the DHT.
//
// A record is plain data: the key and value are bytes (std::string used as
// a byte container), `seq` orders versions (higher wins), `expires` is the
// absolute time after which no node serves it. Storage knows nothing about
// the wire; dht/wire_codec translates `expires` to a relative TTL.
//
// Version order (the rule every replica applies, so all converge on the
// same record): higher seq wins; on equal seq, the larger XXH3-128 digest
// of the value wins; equal digests mean the same record.
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
// Records never live longer than this, whatever TTL a publisher asks for.
inline constexpr absl::Duration kMaxTtl = absl::Hours(7 * 24);
inline constexpr absl::Duration kDefaultTtl = absl::Hours(24);

struct Record {
  std::string key;
  std::string value;
  uint64_t seq = 0;
  absl::Time expires = absl::InfinitePast();

  // Approximate bytes this record occupies, for quotas.
  size_t footprint() const { return key.size() + value.size() + 32; }
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

// Returns InvalidArgument with a message naming the limit if the key is
// empty or too long, or the value too long.
absl::Status ValidateRecordSize(const Record& record);

}  // namespace kad::storage

#endif  // KAD_STORAGE_RECORD_H_

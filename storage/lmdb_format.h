// The on-disk format of LmdbStore (storage/lmdb_store.h): the byte layout
// of its keys and values, kept apart from the store's logic the way
// LevelDB keeps log_format.h. lmdb_format_test.cc pins it with golden
// bytes. All integers are big-endian.
//
// Files in the data dir:
//   LOCK                 advisory lock (flock), held while a store is open.
//   records.mdb(-lock)   one LMDB environment with four databases:
//
//   "records"  key bytes -> u8 record encoding, u64 seq, i64 expires as
//              unix microseconds, then
//                kRecordEncoding (1), an open record: the value bytes
//                  (the rest of the value);
//                kProvenRecordEncoding (2), a signed or immutable record:
//                  u8 RecordKind, then name, public key and signature,
//                  each as u8 length and bytes (empty for immutable), then
//                  the value bytes (the rest).
//              Encoding 2 was added within format version 1: open records
//              are written exactly as before, so a dir written by an older
//              kad opens unchanged, and an older kad reading a dir with
//              proven records reports those entries as malformed rather
//              than misreading them. Records from disk are trusted as the
//              node verified them before storing.
//   "expiry"   u64 expires micros with the sign bit flipped (so the bytes
//              sort like the times), then the key bytes -> empty. One
//              entry per record, in oldest-expiry-first order.
//   "meta"     "format_version" -> u32 (kLmdbStoreFormatVersion);
//              "records" -> u64 count; "bytes" -> u64 sum of
//              Record::footprint() over the records held.
//   "publications"
//              key bytes -> u8 publication encoding (kPublicationEncoding),
//              i64 ttl in microseconds, then the "records" value of the
//              record as put (u8 record encoding, seq, expires, value).
//              The records this node put and republishes
//              (storage/publication_store.h, LmdbPublicationStore); not
//              counted in "meta". Added within version 1: a dir written
//              before it gets an empty one on open, and a kad that does not
//              know it leaves it alone.
//
// Times are kept to the microsecond: a finer `expires` (or ttl) is rounded
// up, so a record that is live when stored is stored as live.
// InfiniteFuture (InfiniteDuration) is kept as the largest i64 and read
// back as InfiniteFuture (InfiniteDuration).
#ifndef KAD_STORAGE_LMDB_FORMAT_H_
#define KAD_STORAGE_LMDB_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "storage/publication_store.h"
#include "storage/record.h"

namespace kad::storage {

// Bumped whenever the layout above changes incompatibly; a store refuses
// to open a data dir holding another version.
inline constexpr uint32_t kLmdbStoreFormatVersion = 1;

namespace lmdb_format {

inline constexpr uint8_t kRecordEncoding = 1;        // Open records.
inline constexpr uint8_t kProvenRecordEncoding = 2;  // Signed, immutable.
inline constexpr uint8_t kPublicationEncoding = 1;
inline constexpr std::string_view kVersionKey = "format_version";
inline constexpr std::string_view kRecordsKey = "records";
inline constexpr std::string_view kBytesKey = "bytes";

// Returns the low `bytes` bytes of `value`, big-endian.
std::string EncodeBigEndian(uint64_t value, int bytes);
// Reads up to 8 big-endian bytes; nullopt if `bytes` is not `size` long.
std::optional<uint64_t> DecodeBigEndian(std::string_view bytes, size_t size);

// Encodes the "records" value of `record` (its key is the LMDB key).
std::string EncodeRecordValue(const Record& record);
// Decodes a "records" entry; nullopt if the value is malformed.
std::optional<Record> DecodeRecord(std::string_view key,
                                   std::string_view value);

// Encodes the "publications" value of `publication` (its record's key is
// the LMDB key).
std::string EncodePublicationValue(const Publication& publication);
// Decodes a "publications" entry; nullopt if the value is malformed.
std::optional<Publication> DecodePublication(std::string_view key,
                                             std::string_view value);

// Returns the "expiry" key for a record.
std::string ExpiryKey(absl::Time expires, std::string_view key);
struct ExpiryEntry {
  absl::Time expires;
  std::string_view key;  // Points into the decoded bytes.
};
// Decodes an "expiry" key; nullopt if it holds no key bytes.
std::optional<ExpiryEntry> DecodeExpiryKey(std::string_view bytes);

}  // namespace lmdb_format
}  // namespace kad::storage

#endif  // KAD_STORAGE_LMDB_FORMAT_H_

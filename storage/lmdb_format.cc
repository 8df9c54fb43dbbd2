#include "storage/lmdb_format.h"

#include <limits>

namespace kad::storage::lmdb_format {
namespace {

constexpr size_t kRecordHeaderBytes = 17;  // Encoding, seq, expires.
constexpr size_t kTimeBytes = 8;
constexpr size_t kPublicationHeaderBytes = 9;  // Encoding, ttl.
constexpr uint64_t kSignBit = uint64_t{1} << 63;
constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max();

// Returns `t` in unix microseconds, rounded up.
int64_t CeilMicros(absl::Time t) {
  const int64_t micros = absl::ToUnixMicros(t);
  if (absl::FromUnixMicros(micros) < t && micros < kMaxMicros) {
    return micros + 1;
  }
  return micros;
}

absl::Time TimeFromMicros(int64_t micros) {
  if (micros == kMaxMicros) return absl::InfiniteFuture();
  return absl::FromUnixMicros(micros);
}

// Returns `d` in microseconds, rounded up; InfiniteDuration as kMaxMicros.
int64_t CeilMicros(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return kMaxMicros;
  return absl::ToInt64Microseconds(absl::Ceil(d, absl::Microseconds(1)));
}

absl::Duration DurationFromMicros(int64_t micros) {
  if (micros == kMaxMicros) return absl::InfiniteDuration();
  return absl::Microseconds(micros);
}

}  // namespace

std::string EncodeBigEndian(uint64_t value, int bytes) {
  std::string out;
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(value >> shift));
  }
  return out;
}

std::optional<uint64_t> DecodeBigEndian(std::string_view bytes, size_t size) {
  if (bytes.size() != size || size > 8) return std::nullopt;
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return value;
}

std::string EncodeRecordValue(const Record& record) {
  const bool open = record.kind == RecordKind::kOpen;
  std::string out(1, static_cast<char>(open ? kRecordEncoding
                                            : kProvenRecordEncoding));
  out += EncodeBigEndian(record.seq, 8);
  out += EncodeBigEndian(static_cast<uint64_t>(CeilMicros(record.expires)), 8);
  if (!open) {
    out.push_back(static_cast<char>(record.kind));
    out.push_back(static_cast<char>(record.name.size()));
    out.append(record.name);
    out.push_back(static_cast<char>(record.public_key.size()));
    out.append(record.public_key);
    out.push_back(static_cast<char>(record.signature.size()));
    out.append(record.signature);
  }
  return out.append(record.value);
}

namespace {

// Reads one length-prefixed field from the front of `rest`.
std::optional<std::string> TakeField(std::string_view& rest) {
  if (rest.empty()) return std::nullopt;
  const size_t size = static_cast<uint8_t>(rest[0]);
  if (rest.size() < 1 + size) return std::nullopt;
  std::string field(rest.substr(1, size));
  rest.remove_prefix(1 + size);
  return field;
}

}  // namespace

std::optional<Record> DecodeRecord(std::string_view key,
                                   std::string_view value) {
  if (value.size() < kRecordHeaderBytes) return std::nullopt;
  const auto encoding = static_cast<uint8_t>(value[0]);
  if (encoding != kRecordEncoding && encoding != kProvenRecordEncoding) {
    return std::nullopt;
  }
  Record record;
  record.key = std::string(key);
  record.seq = *DecodeBigEndian(value.substr(1, 8), 8);
  const uint64_t micros = *DecodeBigEndian(value.substr(9, 8), 8);
  record.expires = TimeFromMicros(static_cast<int64_t>(micros));
  std::string_view rest = value.substr(kRecordHeaderBytes);
  if (encoding == kProvenRecordEncoding) {
    if (rest.empty()) return std::nullopt;
    const auto kind = static_cast<uint8_t>(rest[0]);
    if (kind != static_cast<uint8_t>(RecordKind::kSigned) &&
        kind != static_cast<uint8_t>(RecordKind::kImmutable)) {
      return std::nullopt;
    }
    record.kind = static_cast<RecordKind>(kind);
    rest.remove_prefix(1);
    auto name = TakeField(rest);
    if (!name) return std::nullopt;
    auto public_key = TakeField(rest);
    if (!public_key) return std::nullopt;
    auto signature = TakeField(rest);
    if (!signature) return std::nullopt;
    record.name = *std::move(name);
    record.public_key = *std::move(public_key);
    record.signature = *std::move(signature);
  }
  record.value = std::string(rest);
  return record;
}

std::string EncodePublicationValue(const Publication& publication) {
  std::string out(1, static_cast<char>(kPublicationEncoding));
  out += EncodeBigEndian(static_cast<uint64_t>(CeilMicros(publication.ttl)), 8);
  return out.append(EncodeRecordValue(publication.record));
}

std::optional<Publication> DecodePublication(std::string_view key,
                                             std::string_view value) {
  if (value.size() < kPublicationHeaderBytes ||
      static_cast<uint8_t>(value[0]) != kPublicationEncoding) {
    return std::nullopt;
  }
  std::optional<Record> record =
      DecodeRecord(key, value.substr(kPublicationHeaderBytes));
  if (!record.has_value()) return std::nullopt;
  const uint64_t micros = *DecodeBigEndian(value.substr(1, 8), 8);
  return Publication{*std::move(record),
                     DurationFromMicros(static_cast<int64_t>(micros))};
}

std::string ExpiryKey(absl::Time expires, std::string_view key) {
  const uint64_t micros = static_cast<uint64_t>(CeilMicros(expires));
  return EncodeBigEndian(micros ^ kSignBit, kTimeBytes).append(key);
}

std::optional<ExpiryEntry> DecodeExpiryKey(std::string_view bytes) {
  if (bytes.size() <= kTimeBytes) return std::nullopt;
  const uint64_t flipped = *DecodeBigEndian(bytes.substr(0, kTimeBytes), 8);
  return ExpiryEntry{TimeFromMicros(static_cast<int64_t>(flipped ^ kSignBit)),
                     bytes.substr(kTimeBytes)};
}

}  // namespace kad::storage::lmdb_format

#include "storage/record.h"

#include <xxhash.h>

#include "absl/strings/str_cat.h"

namespace kad::storage {

const char* RecordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kOpen:
      return "open";
    case RecordKind::kSigned:
      return "signed";
    case RecordKind::kImmutable:
      return "immutable";
  }
  return "unknown";
}

RecordDigest DigestOf(const Record& record) {
  XXH128_hash_t h;
  if (record.kind == RecordKind::kOpen) {
    h = XXH3_128bits(record.value.data(), record.value.size());
  } else {
    // Cover what proves the record, so that a summary of a forged copy
    // never matches the genuine one's.
    std::string covered(1, static_cast<char>(record.kind));
    covered.append(record.public_key).append(record.signature);
    covered.append(record.value);
    h = XXH3_128bits(covered.data(), covered.size());
  }
  return RecordDigest{h.high64, h.low64};
}

RecordVersion VersionOf(const Record& record) {
  return RecordVersion{record.seq, DigestOf(record)};
}

bool Supersedes(const Record& candidate, const Record& current) {
  const bool candidate_open = candidate.kind == RecordKind::kOpen;
  const bool current_open = current.kind == RecordKind::kOpen;
  if (candidate_open != current_open) return current_open;
  if (candidate.seq != current.seq) return candidate.seq > current.seq;
  return DigestOf(candidate) > DigestOf(current);
}

absl::Status ValidateValueSize(RecordKind kind, size_t size) {
  const size_t max_value =
      kind == RecordKind::kSigned ? kMaxSignedValueBytes : kMaxValueBytes;
  if (size > max_value) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is ", size, " bytes; the limit is ", max_value,
                     kind == RecordKind::kSigned ? " for a signed record" : ""));
  }
  return absl::OkStatus();
}

absl::Status ValidateRecordSize(const Record& record) {
  if (record.key.empty()) return absl::InvalidArgumentError("key is empty");
  if (record.key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key is ", record.key.size(), " bytes; the limit is ", kMaxKeyBytes));
  }
  if (absl::Status value = ValidateValueSize(record.kind, record.value.size());
      !value.ok()) {
    return value;
  }
  switch (record.kind) {
    case RecordKind::kOpen:
      if (!record.name.empty() || !record.public_key.empty() ||
          !record.signature.empty()) {
        return absl::InvalidArgumentError(
            "an open record carries no name, public key or signature");
      }
      break;
    case RecordKind::kSigned:
      if (record.key.size() != kAddressBytes || record.name.empty() ||
          record.name.size() > kMaxNameBytes ||
          record.public_key.size() != kPublicKeyBytes ||
          record.signature.size() != kSignatureBytes) {
        return absl::InvalidArgumentError(
            "a signed record needs a 20-byte address, a name of 1 to 128 "
            "bytes, a 32-byte public key and a 64-byte signature");
      }
      break;
    case RecordKind::kImmutable:
      if (record.key.size() != kAddressBytes || record.seq != 0 ||
          !record.name.empty() || !record.public_key.empty() ||
          !record.signature.empty()) {
        return absl::InvalidArgumentError(
            "an immutable record has a 20-byte address, seq 0 and no name, "
            "public key or signature");
      }
      break;
    default:
      return absl::InvalidArgumentError("unknown record kind");
  }
  return absl::OkStatus();
}

}  // namespace kad::storage

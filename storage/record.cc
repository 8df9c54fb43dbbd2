#include "storage/record.h"

#include <xxhash.h>

#include "absl/strings/str_cat.h"

namespace kad::storage {

RecordDigest DigestOf(const Record& record) {
  XXH128_hash_t h = XXH3_128bits(record.value.data(), record.value.size());
  return RecordDigest{h.high64, h.low64};
}

RecordVersion VersionOf(const Record& record) {
  return RecordVersion{record.seq, DigestOf(record)};
}

bool Supersedes(const Record& candidate, const Record& current) {
  if (candidate.seq != current.seq) return candidate.seq > current.seq;
  return DigestOf(candidate) > DigestOf(current);
}

absl::Status ValidateRecordSize(const Record& record) {
  if (record.key.empty()) return absl::InvalidArgumentError("key is empty");
  if (record.key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key is ", record.key.size(), " bytes; the limit is ", kMaxKeyBytes));
  }
  if (record.value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is ", record.value.size(),
                     " bytes; the limit is ", kMaxValueBytes));
  }
  return absl::OkStatus();
}

}  // namespace kad::storage

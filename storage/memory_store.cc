#include "storage/memory_store.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kad::storage {
namespace {

// Debian's Abseil has its own string_view; the map's transparent hash
// accepts it, so lookups by key need no std::string copy.
absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

std::string Utc(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

}  // namespace

MemoryStore::MemoryStore(MemoryStoreOptions options) : options_(options) {}

absl::StatusOr<PutOutcome> MemoryStore::Put(const Record& record,
                                            absl::Time now) {
  if (absl::Status valid = ValidateRecordSize(record); !valid.ok()) {
    return valid;
  }
  if (record.expires <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("record has already expired: expires ",
                     Utc(record.expires), " is not after now ", Utc(now)));
  }
  auto it = records_.find(record.key);
  if (it != records_.end()) {
    if (it->second.expires > now) return PutOverLive(record, it->second, now);
    Erase(it);  // Expired but not yet removed: counts as absent.
  }
  return PutNew(record, now);
}

absl::StatusOr<PutOutcome> MemoryStore::PutOverLive(const Record& record,
                                                    Record& held,
                                                    absl::Time now) {
  if (Supersedes(record, held)) {
    const size_t released = held.footprint();
    const size_t added = record.footprint();
    // `held` is live, so MakeRoom never erases it; erasing other entries
    // of a flat_hash_map leaves references to this one valid.
    if (!MakeRoom(now, 0, released, added)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("replacing the record would bring the store to ",
                       bytes_ - released + added, " bytes; max_bytes is ",
                       options_.max_bytes));
    }
    SetExpiry(held, record.expires);
    held = record;
    bytes_ = bytes_ - released + added;
    return PutOutcome::kReplaced;
  }
  const bool same_version =
      record.seq == held.seq && record.value == held.value;
  if (same_version && record.expires > held.expires) {
    SetExpiry(held, record.expires);  // A republish keeps the record alive.
  }
  return PutOutcome::kKeptExisting;
}

absl::StatusOr<PutOutcome> MemoryStore::PutNew(const Record& record,
                                               absl::Time now) {
  const size_t added = record.footprint();
  if (!MakeRoom(now, 1, 0, added)) {
    if (records_.size() + 1 > options_.max_records) {
      return absl::ResourceExhaustedError(
          absl::StrCat("store holds ", records_.size(),
                       " records; max_records is ", options_.max_records));
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("store holds ", bytes_, " bytes; adding ", added,
                     " would exceed max_bytes of ", options_.max_bytes));
  }
  records_.emplace(record.key, record);
  expiry_.emplace(record.expires, record.key);
  bytes_ += added;
  return PutOutcome::kStored;
}

bool MemoryStore::Fits(size_t extra_records, size_t bytes_released,
                       size_t bytes_added) const {
  // bytes_released is part of bytes_, so the subtraction cannot wrap.
  return records_.size() + extra_records <= options_.max_records &&
         bytes_ - bytes_released + bytes_added <= options_.max_bytes;
}

bool MemoryStore::MakeRoom(absl::Time now, size_t extra_records,
                           size_t bytes_released, size_t bytes_added) {
  while (!Fits(extra_records, bytes_released, bytes_added)) {
    if (expiry_.empty() || expiry_.begin()->first > now) return false;
    Erase(records_.find(expiry_.begin()->second));
  }
  return true;
}

void MemoryStore::SetExpiry(Record& held, absl::Time expires) {
  expiry_.erase(ExpiryEntry{held.expires, held.key});
  expiry_.emplace(expires, held.key);
  held.expires = expires;
}

void MemoryStore::Erase(absl::flat_hash_map<std::string, Record>::iterator it) {
  expiry_.erase(ExpiryEntry{it->second.expires, it->first});
  bytes_ -= it->second.footprint();
  records_.erase(it);
}

absl::StatusOr<Record> MemoryStore::Get(std::string_view key,
                                        absl::Time now) const {
  auto it = records_.find(AsAbsl(key));
  if (it == records_.end() || it->second.expires <= now) {
    return absl::NotFoundError("no live record under this key");
  }
  return it->second;
}

bool MemoryStore::Remove(std::string_view key) {
  auto it = records_.find(AsAbsl(key));
  if (it == records_.end()) return false;
  Erase(it);
  return true;
}

size_t MemoryStore::ExpireSome(absl::Time now, size_t budget) {
  size_t removed = 0;
  while (removed < budget && !expiry_.empty() &&
         expiry_.begin()->first <= now) {
    Erase(records_.find(expiry_.begin()->second));
    ++removed;
  }
  return removed;
}

void MemoryStore::ForEach(absl::Time now,
                          absl::FunctionRef<void(const Record&)> fn) const {
  std::vector<const Record*> live;
  live.reserve(records_.size());
  for (const auto& [key, record] : records_) {
    if (record.expires > now) live.push_back(&record);
  }
  std::sort(live.begin(), live.end(),
            [](const Record* a, const Record* b) { return a->key < b->key; });
  for (const Record* record : live) fn(*record);
}

StoreStats MemoryStore::stats() const {
  return StoreStats{records_.size(), bytes_};
}

}  // namespace kad::storage

#include "dht/admission_control.h"

#include <cassert>

namespace kad::dht {

std::string_view AdmissionName(Admission admission) {
  switch (admission) {
    case Admission::kAdmit:
      return "admit";
    case Admission::kDropAddressLimit:
      return "drop_address_limit";
    case Admission::kDropPrefixLimit:
      return "drop_prefix_limit";
    case Admission::kDropGlobalLimit:
      return "drop_global_limit";
    case Admission::kDropBanned:
      return "drop_banned";
  }
  return "unknown";
}

AdmissionControl::AdmissionControl(const AdmissionOptions& options)
    : address_bucket_(BucketFor(options.per_address)),
      prefix_bucket_(BucketFor(options.per_prefix)),
      global_bucket_(BucketFor(options.global)),
      excess_bucket_(BucketFor(options.ban_after_excess)),
      ban_enabled_(options.ban_after_excess.has_value()),
      ban_ns_(absl::ToInt64Nanoseconds(options.ban_duration)),
      exempt_loopback_(options.exempt_loopback),
      table_(options.max_entries, options.table_seed) {}

Admission AdmissionControl::Decide(const net::Endpoint& source,
                                   absl::Time now) {
  SourceKeys keys = KeysOf(source);
  if (keys.loopback && exempt_loopback_) {
    ++stats_.admitted_exempt;
    return Count(Admission::kAdmit);
  }
  int64_t now_ns = TokenBucket::Nanos(now);

  // A missing entry is a full bucket.
  Table::Index address = table_.Find(keys.address);
  int64_t address_ready = TokenBucket::kFull;
  if (address != Table::kNone) {
    const Entry& entry = table_.value(address);
    if (entry.banned_until_ns > now_ns) return Count(Admission::kDropBanned);
    address_ready = entry.ready_ns;
  }
  int64_t address_next = address_bucket_.Next(address_ready, now_ns);
  if (!address_bucket_.Allowed(address_next, now_ns)) {
    assert(address != Table::kNone);  // A full bucket holds a token.
    return DropByAddressLimit(table_.value(address), now_ns);
  }

  Table::Index prefix = table_.Find(keys.prefix);
  int64_t prefix_ready = prefix == Table::kNone ? TokenBucket::kFull
                                                : table_.value(prefix).ready_ns;
  int64_t prefix_next = prefix_bucket_.Next(prefix_ready, now_ns);
  if (!prefix_bucket_.Allowed(prefix_next, now_ns)) {
    return Count(Admission::kDropPrefixLimit);
  }

  int64_t global_next = global_bucket_.Next(global_ready_ns_, now_ns);
  if (!global_bucket_.Allowed(global_next, now_ns)) {
    return Count(Admission::kDropGlobalLimit);
  }

  // All three have a token: take them. A bucket still full afterwards
  // (an unlimited one) needs no entry. Stores to entries found come first:
  // adding an entry may move the others.
  global_ready_ns_ = global_next;
  if (address != Table::kNone) table_.value(address).ready_ns = address_next;
  if (prefix != Table::kNone) table_.value(prefix).ready_ns = prefix_next;
  if (prefix == Table::kNone && prefix_next > now_ns) {
    Store(keys.prefix, prefix_next, now_ns, &keys.address);
  }
  if (address == Table::kNone && address_next > now_ns) {
    Store(keys.address, address_next, now_ns, &keys.prefix);
  }
  return Count(Admission::kAdmit);
}

void AdmissionControl::Store(const SourceKey& key, int64_t ready_ns,
                             int64_t now_ns, const SourceKey* keep) {
  table_.value(table_.Insert(key, now_ns, keep)).ready_ns = ready_ns;
}

Admission AdmissionControl::DropByAddressLimit(Entry& entry, int64_t now_ns) {
  if (ban_enabled_) {
    int64_t excess_next = excess_bucket_.Next(entry.excess_ready_ns, now_ns);
    if (excess_bucket_.Allowed(excess_next, now_ns)) {
      entry.excess_ready_ns = excess_next;
    } else {
      entry.banned_until_ns = now_ns + ban_ns_;
      entry.excess_ready_ns = TokenBucket::kFull;
      ++stats_.bans;
    }
  }
  return Count(Admission::kDropAddressLimit);
}

Admission AdmissionControl::Count(Admission admission) {
  switch (admission) {
    case Admission::kAdmit:
      ++stats_.admitted;
      break;
    case Admission::kDropAddressLimit:
      ++stats_.dropped_address_limit;
      break;
    case Admission::kDropPrefixLimit:
      ++stats_.dropped_prefix_limit;
      break;
    case Admission::kDropGlobalLimit:
      ++stats_.dropped_global_limit;
      break;
    case Admission::kDropBanned:
      ++stats_.dropped_banned;
      break;
  }
  return admission;
}

AdmissionStats AdmissionControl::stats() const {
  AdmissionStats stats = stats_;
  stats.live_evictions = table_.live_evictions();
  return stats;
}

}  // namespace kad::dht

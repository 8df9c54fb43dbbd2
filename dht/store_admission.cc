#include "dht/store_admission.h"

#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <vector>

#include "dht/split_mix64.h"

namespace kad::dht {
namespace {

int64_t Nanos(absl::Time time) { return absl::ToUnixNanos(time); }

}  // namespace

StoreAdmission::StoreAdmission(const StoreAdmissionOptions& options,
                               int bucket_size,
                               const RoutingTable& routing_table)
    : closer_limit_(static_cast<size_t>(bucket_size) +
                    static_cast<size_t>(std::max(options.closeness_slack, 0))),
      max_records_per_prefix_(options.max_records /
                              std::max(options.prefix_share_divisor, 1)),
      max_bytes_per_prefix_(options.max_bytes /
                            std::max(options.prefix_share_divisor, 1)),
      exempt_loopback_(options.exempt_loopback),
      routing_table_(routing_table) {
  SplitMix64 gen(options.seed ^ 0x73746f7265736565);  // "storesee"
  for (size_t i = 0; i < hash_key_.size(); i += 8) {
    uint64_t word = gen();
    for (size_t b = 0; b < 8; ++b) hash_key_[i + b] = (word >> (8 * b)) & 0xff;
  }
}

SourceKey StoreAdmission::PrefixOf(const net::Endpoint& source) {
  SourceKeys keys = KeysOf(source);
  // IPv4: the /24. IPv6: the /64, which KeysOf calls the address.
  return keys.prefix.kind == SourceKind::kIpv4Prefix ? keys.prefix
                                                     : keys.address;
}

bool StoreAdmission::Exempt(const net::Endpoint& source) const {
  return exempt_loopback_ && KeysOf(source).loopback;
}

bool StoreAdmission::AmongClosest(std::string_view key) const {
  const NodeId key_id = NodeId::ForKey(key);
  std::vector<Contact> closest = routing_table_.Closest(key_id, closer_limit_);
  if (closest.size() < closer_limit_) return true;  // A sparse table.
  // Sorted nearest first: all closer than us iff the farthest of them is.
  return !CloserTo{key_id}(closest.back().id, routing_table_.self());
}

bool StoreAdmission::WithinShare(const SourceKey& source, uint64_t records,
                                 uint64_t bytes) const {
  Usage used;
  if (accounts_ != nullptr) {
    if (auto it = accounts_->usage.find(source);
        it != accounts_->usage.end()) {
      used = it->second;
    }
  }
  return used.records + records <= max_records_per_prefix_ &&
         used.bytes + bytes <= max_bytes_per_prefix_;
}

StoreRefusal StoreAdmission::Check(const storage::Record& record, bool held,
                                   const net::Endpoint& source,
                                   absl::Time now) {
  ExpireCharges(now);
  if (held) return StoreRefusal::kNone;  // An update: adds no record.
  // Not held: a charge left for the key is stale (removed or replaced
  // under us, e.g. expired before we saw it).
  Uncharge(HashOf(record.key));
  if (!AmongClosest(record.key)) return StoreRefusal::kNotClosest;
  if (!Exempt(source) &&
      !WithinShare(PrefixOf(source), 1, record.footprint())) {
    return StoreRefusal::kSourceQuota;
  }
  return StoreRefusal::kNone;
}

StoreRefusal StoreAdmission::CheckOffered(std::string_view key,
                                          const net::Endpoint& source,
                                          absl::Time now) {
  ExpireCharges(now);
  if (!AmongClosest(key)) return StoreRefusal::kNotClosest;
  if (!Exempt(source) && !WithinShare(PrefixOf(source), 1, 0)) {
    return StoreRefusal::kSourceQuota;
  }
  return StoreRefusal::kNone;
}

void StoreAdmission::OnStored(const storage::Record& record,
                              const net::Endpoint& source, absl::Time now) {
  if (record.expires <= now) return;
  const uint64_t hash = HashOf(record.key);
  int64_t expires_ns = Nanos(record.expires);
  if (accounts_ != nullptr) {
    if (auto it = accounts_->charges.find(hash);
        it != accounts_->charges.end()) {
      // A republish that kept an equal version keeps its later expiry.
      expires_ns = std::max(expires_ns, it->second.expires_ns);
    }
  }
  Uncharge(hash);
  if (Exempt(source)) return;
  if (accounts_ == nullptr) accounts_ = std::make_unique<Accounts>();
  Charge charge{PrefixOf(source), static_cast<uint32_t>(record.footprint()),
                expires_ns};
  Usage& used = accounts_->usage[charge.source];
  ++used.records;
  used.bytes += charge.bytes;
  accounts_->charges.emplace(hash, charge);
  accounts_->by_expiry.emplace(expires_ns, hash);
}

StoreAdmission::Usage StoreAdmission::UsageOf(
    const net::Endpoint& source) const {
  if (accounts_ == nullptr) return Usage{};
  auto it = accounts_->usage.find(PrefixOf(source));
  return it == accounts_->usage.end() ? Usage{} : it->second;
}

uint64_t StoreAdmission::HashOf(std::string_view key) const {
  uint8_t digest[crypto_shorthash_BYTES];
  static_assert(sizeof(digest) == 8);
  static_assert(crypto_shorthash_KEYBYTES == 16);
  crypto_shorthash(digest, reinterpret_cast<const uint8_t*>(key.data()),
                   key.size(), hash_key_.data());
  uint64_t hash = 0;
  for (uint8_t b : digest) hash = (hash << 8) | b;
  return hash;
}

void StoreAdmission::Uncharge(uint64_t hash) {
  if (accounts_ == nullptr) return;
  auto it = accounts_->charges.find(hash);
  if (it == accounts_->charges.end()) return;
  const Charge& charge = it->second;
  auto used = accounts_->usage.find(charge.source);
  assert(used != accounts_->usage.end());
  --used->second.records;
  used->second.bytes -= charge.bytes;
  if (used->second.records == 0) accounts_->usage.erase(used);
  accounts_->by_expiry.erase({charge.expires_ns, hash});
  accounts_->charges.erase(it);
  if (accounts_->charges.empty()) accounts_.reset();  // Give the heap back.
}

void StoreAdmission::ExpireCharges(absl::Time now) {
  const int64_t now_ns = Nanos(now);
  for (size_t i = 0; i < kExpiryBatch && accounts_ != nullptr; ++i) {
    auto [expires_ns, hash] = *accounts_->by_expiry.begin();
    if (expires_ns > now_ns) return;
    Uncharge(hash);
  }
}

}  // namespace kad::dht

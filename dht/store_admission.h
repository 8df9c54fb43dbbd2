// StoreAdmission: decides whether a store from a stranger may add a record
// to this node, and keeps the per-source accounting that decision needs.
//
// A store of a key this node does not hold (a newcomer) is admitted only if
//   1. closeness: this node is plausibly among the k closest nodes to the
//      key by its own routing table — fewer than k + closeness_slack of the
//      contacts it knows are closer to the key id than itself; and
//   2. share: the source's prefix (/24 for IPv4, /64 for IPv6: the
//      routing table's per-subnet unit, net::SamePrefix) would then hold at
//      most 1/prefix_share_divisor of the store's record quota and of its
//      byte quota.
// Whether the store itself has room is the store's own decision (it refuses
// with ResourceExhausted and never evicts: storage/record_store.h); this
// class only sees to it that one prefix cannot take more than its share of
// that room. A store of a key already held (a newer version, a republish,
// the owner's update) is never refused here: it does not add a record, and
// an owner must be able to update what it published wherever it now is.
//
// Why these rules and defaults:
//   - closeness_slack = k. With k-buckets, the contacts closer to a key
//     than we are sit in the bucket of the key's common prefix with our id
//     (at most k) and, for about half the keys, in the deeper buckets: a
//     node far from a key knows many closer contacts, one among the k
//     closest knows fewer than k (it knows its neighbourhood well). Honest
//     views differ, though: our table may still hold dead contacts the
//     putter's lookup skipped, and lookups keep at most two contacts per
//     /24 among their k closest while our table may know more. Refusing
//     only when 2k known contacts are closer means that even if half of
//     them are dead or skipped, k others are closer than us. A node that
//     knows fewer than 2k contacts (a young node, a small overlay) accepts
//     every key. The check is a filter against careless floods, not a
//     wall: keys are cheap to grind, so the share below is what bounds an
//     attacker.
//   - prefix_share_divisor = 4: one /24 or /64 holds at most a quarter of
//     the record quota and of the byte quota, so at least four prefixes
//     must flood before honest newcomers find the store full.
//   - loopback exempt (exempt_loopback): local overlays run thousands of
//     nodes behind 127.0.0.1, all one prefix; a loopback source is this
//     host. Exempt stores are not charged.
//
// Accounting: every admitted store charges its record (one record, its
// footprint) to the source's prefix until the record expires; the charge
// for a key follows its latest writer (a replaced record is uncharged from
// whoever held it). Records a peer hands off or replicates to us are
// stores like any other and are charged to that peer's prefix, and checked
// for closeness too: a peer offers a record only to nodes it believes are
// among the k closest, and a node that sees 2k closer contacts should not
// take it (OfferWanted answers offers by the same rules, so refused records
// are never sent). Records that are not charged to anyone — this node's
// own puts, records loaded from a data dir at start, loopback stores —
// count against the store's quotas but no prefix's share.
//
// Memory: the object is about 64 bytes and holds no heap while nothing is
// charged (a simulated overlay of a million nodes pays 64 MB). Per charged
// record held: an entry of the charge map (a SipHash-2-4 digest of the key,
// keyed with a secret drawn from `seed`, so no one can aim keys at a
// collision) and of the expiry index, about 80 bytes; per prefix holding
// records, one usage entry, dropped with its last record. Both are bounded
// by the store's record quota, and all of it is given back when the last
// charge goes. Charges of expired records are dropped lazily, at most
// kExpiryBatch per call, oldest first.
//
// Ownership: the routing table is borrowed and must outlive this object.
// Not thread-safe; call from the loop thread. Pure: time comes in.
#ifndef KAD_DHT_STORE_ADMISSION_H_
#define KAD_DHT_STORE_ADMISSION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "dht/kademlia_parameters.h"
#include "dht/routing_table.h"
#include "dht/source_key.h"
#include "net/endpoint.h"
#include "storage/memory_store.h"
#include "storage/record.h"

namespace kad::dht {

struct StoreAdmissionOptions {
  // A newcomer key is refused when at least bucket_size + closeness_slack
  // known contacts are closer to it than this node (see above for why k).
  int closeness_slack = kDefaultBucketSize;
  // One source prefix may hold at most 1/prefix_share_divisor of
  // max_records and of max_bytes (at least 1).
  int prefix_share_divisor = 4;
  // The store's quotas, which the share is a fraction of. Default: the
  // defaults of storage::MemoryStoreOptions and LmdbStoreOptions (equal);
  // set them to match a store built with other quotas.
  size_t max_records = storage::MemoryStoreOptions{}.max_records;
  size_t max_bytes = storage::MemoryStoreOptions{}.max_bytes;
  // Loopback sources are neither checked for their share nor charged.
  bool exempt_loopback = true;
  // Keys the hash of record keys in the charge map; a real node passes a
  // secret random value.
  uint64_t seed = 0;
};

// Why a store was refused here (kNone: admitted).
enum class StoreRefusal : uint8_t {
  kNone,
  kNotClosest,   // 2k known contacts are closer to the key
  kSourceQuota,  // the source's prefix holds its share
};

class StoreAdmission {
 public:
  // Charges of expired records dropped per call, at most.
  static constexpr size_t kExpiryBatch = 256;

  // `bucket_size` is Kademlia's k.
  StoreAdmission(const StoreAdmissionOptions& options, int bucket_size,
                 const RoutingTable& routing_table);

  // Decides whether a store of `record` from `source` may go ahead;
  // `held`: the store holds a live record at record.key.
  StoreRefusal Check(const storage::Record& record, bool held,
                     const net::Endpoint& source, absl::Time now);
  // Decides whether a record at `key`, not held, would be admitted from
  // `source` on count (its size is unknown yet): answers to an offer.
  StoreRefusal CheckOffered(std::string_view key, const net::Endpoint& source,
                            absl::Time now);
  // Records that `record` from `source` is now held (the store accepted
  // it, or kept an equal version with this expiry).
  void OnStored(const storage::Record& record, const net::Endpoint& source,
                absl::Time now);

  // Records and bytes charged to the prefix of `source`, as of the last
  // call.
  struct Usage {
    uint64_t records = 0;
    uint64_t bytes = 0;
  };
  Usage UsageOf(const net::Endpoint& source) const;
  // Known contacts closer to a key than this node that make it refuse
  // the key: k + closeness_slack.
  size_t closer_limit() const { return closer_limit_; }
  // Prefixes holding charged records.
  size_t prefixes() const { return accounts_ ? accounts_->usage.size() : 0; }
  // Records charged to some prefix.
  size_t charged() const { return accounts_ ? accounts_->charges.size() : 0; }

 private:
  struct Charge {
    SourceKey source;
    uint32_t bytes = 0;
    int64_t expires_ns = 0;
  };

  // The /24 or /64 a store from `source` is charged to.
  static SourceKey PrefixOf(const net::Endpoint& source);
  bool Exempt(const net::Endpoint& source) const;
  bool AmongClosest(std::string_view key) const;
  // Whether the prefix `source` may take `records` more records and
  // `bytes` more bytes.
  bool WithinShare(const SourceKey& source, uint64_t records,
                   uint64_t bytes) const;
  uint64_t HashOf(std::string_view key) const;
  void Uncharge(uint64_t hash);
  void ExpireCharges(absl::Time now);

  size_t closer_limit_;  // k + closeness_slack
  uint64_t max_records_per_prefix_;
  uint64_t max_bytes_per_prefix_;
  bool exempt_loopback_;
  std::array<uint8_t, 16> hash_key_;
  struct Accounts {
    absl::flat_hash_map<uint64_t, Charge> charges;  // By HashOf(key).
    absl::btree_set<std::pair<int64_t, uint64_t>> by_expiry;  // (ns, hash)
    absl::flat_hash_map<SourceKey, Usage> usage;
  };

  const RoutingTable& routing_table_;
  // Null while nothing is charged: before the first charge, and again
  // once the last has gone.
  std::unique_ptr<Accounts> accounts_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_STORE_ADMISSION_H_

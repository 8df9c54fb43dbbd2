// RoutingTable: the k-buckets of one node — whom it knows, and how well.
//
// A pure data structure: no I/O and no clock. Time arrives as `now`,
// randomness as a generator, and the node carries out what the table asks
// for (pinging an entry before it may be evicted, refreshing stale buckets).
//
// Layout (libtorrent's): a vector of buckets. Bucket i, for every i but the
// last, holds ids whose common prefix length (CPL) with our own id is
// exactly i; the last bucket holds every CPL >= its index, and so covers our
// own id. Only the last bucket splits, when it is full and a new contact
// falls into it, up to kMaxBuckets buckets.
//
// Invariants, after every call:
//   - each bucket holds at most bucket_size entries, each in the bucket its
//     CPL selects, ordered least- to most-recently seen;
//   - no id and no endpoint appears twice among the entries, and our own id
//     never appears;
//   - within one bucket, at most max_per_subnet entries share a /24 (IPv4)
//     or /64 (IPv6), and in the whole table at most max_per_subnet_in_table,
//     unless their address lies in prefix_limit_exempt (loopback by
//     default);
//   - an id keeps its endpoint while that endpoint answers: it moves only
//     after a request to the old endpoint has failed (libtorrent's rule);
//   - each replacement cache holds at most replacement_cache_size contacts,
//     most recent first, none of them also an entry, with the same subnet
//     limit applied to the cache on its own;
//   - a bucket with room has an empty replacement cache;
//   - with id_binding.enforce, no entry's id fails to verify from its
//     address (dht/id_binding.h).
//
// Where this departs from the Kademlia paper:
//   - Only a node that answered one of our requests enters the table
//     (OnResponse). A request from a stranger refreshes nothing and adds
//     nothing: the node pings it first (see WouldAdmit), so a spoofed
//     source address cannot plant entries.
//   - Buckets split the libtorrent way (a vector indexed by CPL) rather than
//     as a binary tree; the paper's "relaxed" splitting of buckets away from
//     our id is not done: those buckets never split.
//   - A full bucket is not updated by pinging its least-recently-seen entry
//     inline. The newcomer goes to a per-bucket replacement cache and the
//     caller is told whom to ping (ping_to_evict); the verdict comes back as
//     OnResponse or OnFailure. An entry is handed out for pinging at most
//     once until that verdict arrives, and only if it has not been seen for
//     presumed_alive_for: a lookup meets dozens of newcomers, and pinging a
//     contact that answered a minute ago tells us nothing (a join used to
//     spend ~7% of its datagrams on such pings).
//   - Entries are dropped after max_failures consecutive failures, or after
//     a single failure if the replacement cache holds a candidate: a contact
//     that answered recently beats one that just did not.
//   - Per-subnet limits (per bucket and table-wide) and
//     one-id-per-endpoint, against Sybil flooding.
//   - No id hijack: an id that answers from a new endpoint while its entry
//     has not failed is not believed (kRejected); the caller is asked to
//     ping the old endpoint (ping_to_evict), and only once that has failed
//     may the id move. A failure charged through OnFailure(Contact) counts
//     only against an entry at that endpoint, so requests sent to an
//     impostor's address cannot wear down the real entry.
//   - Verified contacts first (id binding, dht/id_binding.h): a contact
//     whose id verifies from its address takes the place of the
//     least-recently-seen unverified entry of a full bucket (which is
//     dropped); an unverified newcomer never has a verified entry pinged
//     for eviction; a replacement cache promotes verified candidates
//     first. With id_binding.enforce, a contact whose id fails to verify
//     is rejected.
//
// Memory (a simulated overlay of a million nodes keeps a million tables): an
// entry or replacement candidate is a 32-byte Slot — the id, the time it was
// last seen in whole seconds since the table was made, a one-byte failure
// count, the port, and the address: an IPv4 address inline, an IPv6 address as
// an index into a per-table pool of 16-byte addresses. Addresses are appended
// and never shared, so a slot that goes leaves its address behind; when the
// pool reaches twice the IPv6 slots it held after its last rebuild, plus 16, it
// is rebuilt from the slots (amortised O(1) per address added). A slot's pool
// index is therefore good only until the next IPv6 address is added. Bucket
// storage grows with its entries, four slots at a time, up to bucket_size
// (replacement_cache_size for a cache), is allocated on first use, and
// shrinks to fit when a split takes entries away. There is no index by endpoint: the
// one-id-per-endpoint check scans the entries (a few hundred even in a huge
// overlay), only when a contact is added or moves, and only in buckets
// whose 8-byte filter of endpoints (Bucket::endpoints) has the endpoint's
// bit.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_ROUTING_TABLE_H_
#define KAD_DHT_ROUTING_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/time/time.h"
#include "dht/contact.h"
#include "dht/id_binding.h"
#include "dht/kademlia_parameters.h"
#include "dht/node_id.h"
#include "net/endpoint.h"
#include "net/subnet.h"

namespace kad::dht {

struct RoutingTableOptions {
  int bucket_size = kDefaultBucketSize;  // Kademlia's k
  int replacement_cache_size = 8;  // Candidates kept per bucket.
  int max_failures = 3;  // Consecutive failures before a contact is dropped.
  // Entries per /24 (IPv4) or /64 (IPv6) in one bucket, and in the whole
  // table; addresses in prefix_limit_exempt are exempt from both.
  int max_per_subnet = kDefaultMaxPerSubnetInBucket;
  int max_per_subnet_in_table = kDefaultMaxPerSubnetInTable;
  // Borrowed: must outlive the table. Default: loopback only (local
  // overlays); a deployment adds net::PrivateSubnets() when its private
  // peers are distinct hosts.
  std::span<const net::Subnet> prefix_limit_exempt = net::LoopbackSubnets();
  // A bucket no lookup has touched for this long is due for a refresh.
  absl::Duration refresh_interval = absl::Hours(1);
  // A full bucket asks for its least-recently-seen entry to be pinged
  // (ping_to_evict) only once that entry has not been seen for this long
  // (BEP 5's "good" node: heard from in the last 15 minutes); a newcomer
  // meanwhile waits in the replacement cache. Zero pings every time.
  absl::Duration presumed_alive_for = absl::Minutes(15);
  // Which ids verify from which addresses, and whether to refuse those
  // that do not (see the class comment). Default: not enforced.
  IdBindingOptions id_binding;
};

struct RoutingEntry {
  Contact contact;
  // Last response from it, or request from it; kept in whole seconds
  // since the table was made (earlier times count as that moment).
  absl::Time last_seen;
  int failures = 0;  // Consecutive failed requests to it.
};

struct BucketInfo {
  int prefix_length;  // CPL of the bucket's ids (the minimum, for the last).
  size_t size;
  size_t replacements;
  absl::Time last_touched;
};

class RoutingTable {
 public:
  static constexpr int kMaxBuckets = NodeId::kBits;

  // Starts with one empty bucket covering the whole keyspace, touched `now`.
  // Every option must be positive, and max_failures at most 255.
  RoutingTable(const NodeId& self, RoutingTableOptions options, absl::Time now);

  struct Update {
    enum class Kind {
      kAdded,      // Now an entry.
      kRefreshed,  // Was an entry; last_seen, failures and endpoint updated.
      kCached,     // Bucket full: kept in its replacement cache.
      // Own id, endpoint owned by another id, subnet full, a known id
      // answering from a new endpoint while its old one has not failed,
      // or (id_binding.enforce) an id that does not verify.
      kRejected,
    } kind;
    // Set with kCached when the least-recently-seen entry not already
    // awaiting a ping was last seen presumed_alive_for ago or earlier, and
    // with kRejected when a known id answered from a new endpoint (the
    // entry at its old endpoint is the one to ping): the caller should
    // ping it and report back through OnResponse or OnFailure.
    std::optional<Contact> ping_to_evict;
  };

  // Records that `contact` answered one of our requests: the only way a
  // node enters the table. Splits the last bucket as needed.
  Update OnResponse(const Contact& contact, absl::Time now);
  // Records a request from `contact`: refreshes last_seen if it is an entry
  // with that endpoint; never adds. Returns whether it was such an entry.
  bool OnRequest(const Contact& contact, absl::Time now);
  // Records that a request to `id` failed (timeout or error), dropping the
  // entry when it has failed too often and promoting a replacement.
  void OnFailure(const NodeId& id, absl::Time now);
  // As OnFailure(contact.id), but only if the entry (or candidate) for
  // that id is at contact.endpoint: a request to an address some stranger
  // gave for a known id charges nothing to the real entry.
  void OnFailure(const Contact& contact, absl::Time now);

  // Returns whether an unknown node with this id would be added by
  // OnResponse, capacity-wise: its bucket has room or splitting makes room.
  // The node uses this to decide whether to ping a stranger that queried it.
  bool WouldAdmit(const NodeId& id) const;

  // Returns up to `count` entries, sorted by XOR distance to `target`,
  // nearest first, taken from all buckets; `except`'s entry, if given, is
  // left out (a node does not tell a requester about itself).
  std::vector<Contact> Closest(
      const NodeId& target, size_t count,
      const std::optional<NodeId>& except = std::nullopt) const;
  // Returns the entry for `id`; replacement candidates are not entries.
  std::optional<RoutingEntry> Find(const NodeId& id) const;

  // Marks the bucket covering `target` as refreshed (a lookup toward it ran).
  void Touch(const NodeId& target, absl::Time now);
  // Returns one random id inside each bucket untouched for refresh_interval,
  // in bucket order, and marks those buckets touched.
  std::vector<NodeId> TargetsToRefresh(absl::Time now, absl::BitGenRef gen);
  // Returns one random id for each common prefix length with us shorter
  // than our nearest neighbour's that no entry has, shortest first: the
  // ranges farther than the nearest neighbour that a join must still
  // reach (bootstrap's "refresh all farther buckets", less those it
  // already holds a route into). Ranges still inside the last bucket
  // count, so a later split cannot uncover an empty one. Empty when the
  // table is.
  std::vector<NodeId> TargetsInEmptyFartherRanges(absl::BitGenRef gen) const;

  // Returns the ids of the entries last seen at `since` or later (to the
  // second: an entry seen in the same second counts), in no order.
  std::vector<NodeId> IdsSeenSince(absl::Time since) const;
  // Returns every entry's contact, by bucket, then by id.
  std::vector<Contact> AllContacts() const;
  std::vector<BucketInfo> Buckets() const;
  // Returns the number of entries (replacement candidates not counted).
  size_t size() const;
  // Asks the CPU for the bucket array ahead of use: a hint, no effect.
  void Prefetch() const;
  const NodeId& self() const { return self_; }

 private:
  // An entry or a replacement candidate, 32 bytes (see Memory above).
  struct Slot {
    NodeId id;
    uint32_t seen = 0;  // last_seen, in seconds since epoch_.
    // IPv4: the four address bytes, in network order as they lie in memory.
    // IPv6: an index into ipv6_pool_.
    uint32_t address = 0;
    uint16_t port = 0;
    uint8_t failures = 0;  // Consecutive failures; < max_failures.
    // Handed out as ping_to_evict, verdict pending.
    bool questioned : 1 = false;
    bool ipv6 : 1 = false;
    bool verified : 1 = false;  // Its id verifies from its address.
  };
  static_assert(sizeof(Slot) == 32, "a million tables hold ~340M slots");
  struct Bucket {
    explicit Bucket(int64_t touched) : last_touched(touched) {}
    std::vector<Slot> live;          // Least recently seen first.
    std::vector<Slot> replacements;  // Most recent first.
    // In nanoseconds since epoch_: as exact as any clock, in half the
    // bytes of an absl::Time.
    int64_t last_touched;
    // EndpointBit of every live entry's endpoint, and perhaps of some that
    // left (rebuilt when an entry is removed or a split moves entries):
    // EndpointTaken skips a bucket whose bits lack the endpoint's, ~3 of 4
    // full buckets, instead of reading all its entries (that scan was 7 %
    // of a simulated join's CPU).
    uint64_t endpoints = 0;
  };

  // One bit of 64 chosen by a hash of the endpoint.
  static uint64_t EndpointBit(std::span<const uint8_t> address,
                              uint16_t port);
  uint64_t EndpointBitOf(const Slot& slot) const;
  void RebuildEndpoints(Bucket& bucket) const;

  // Returns the size the IPv6 pool may reach before it is compacted again,
  // once compacting has left `used` addresses in it: at least `used` + 16
  // addresses are added between compactions, which each scan every slot.
  static size_t Ipv6PoolLimit(size_t used);
  // Returns a slot for `contact`, interning an IPv6 address (which may
  // rebuild ipv6_pool_: every slot must be in a bucket by then).
  Slot MakeSlot(const Contact& contact, uint32_t seen);
  uint32_t InternIpv6(std::span<const uint8_t> address);
  void CompactIpv6Pool();
  std::span<const uint8_t> AddressOf(const Slot& slot) const;
  net::Endpoint EndpointOf(const Slot& slot) const;
  Contact ContactOf(const Slot& slot) const;
  bool HasEndpoint(const Slot& slot, const net::Endpoint& endpoint) const;
  int64_t NanosecondsOf(absl::Time time) const;

  size_t BucketIndex(const NodeId& id) const;
  Slot* FindSlot(size_t bucket, const NodeId& id);
  bool EndpointTaken(const net::Endpoint& endpoint, const NodeId& id) const;
  // Returns whether `contact` would break a per-prefix limit in bucket
  // `bucket` or in the table (ignoring an entry with its own id).
  bool SubnetFull(size_t bucket, const Contact& contact) const;
  bool Exempt(const net::Endpoint& endpoint) const;
  Update Refresh(size_t bucket, const Contact& contact, absl::Time now);
  size_t SplitFor(const NodeId& id);
  void SplitLast();
  uint32_t SecondsOf(absl::Time time) const;
  RoutingEntry EntryOf(const Slot& slot) const;
  Update Cache(Bucket& bucket, const Contact& candidate, absl::Time now);
  // Puts `contact` (verified) in the place of the least-recently-seen
  // unverified entry of full bucket `bucket`; returns false if none.
  bool DisplaceUnverified(Bucket& bucket, const Contact& contact,
                          absl::Time now);
  bool Verified(const Contact& contact) const;
  void AddLive(Bucket& bucket, Slot entry);
  void RemoveLive(size_t bucket, size_t position);
  void FillFromCache(size_t bucket);
  bool FitsAfterSplits(const NodeId& id) const;
  NodeId RandomIdIn(size_t bucket, absl::BitGenRef gen) const;

  NodeId self_;
  RoutingTableOptions options_;
  absl::Time epoch_;  // Slot times count seconds from here.
  std::vector<Bucket> buckets_;
  // The IPv6 addresses of slots, each used by at most one slot; the rest
  // is garbage, collected by CompactIpv6Pool when the pool is about to
  // grow past ipv6_pool_limit_.
  std::vector<std::array<uint8_t, net::Endpoint::kIpv6Bytes>> ipv6_pool_;
  size_t ipv6_pool_limit_;
};

}  // namespace kad::dht

#endif  // KAD_DHT_ROUTING_TABLE_H_

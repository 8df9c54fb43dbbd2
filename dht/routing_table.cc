#include "dht/routing_table.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <iterator>
#include <limits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "dht/prefetch.h"

namespace kad::dht {
namespace {

// Returns whether addresses `a` and `b` (4 bytes for IPv4, 16 for IPv6)
// share a /24 or a /64.
bool SameSubnet(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  size_t prefix_bytes = a.size() == net::Endpoint::kIpv4Bytes ? 3 : 8;
  return std::equal(a.begin(), a.begin() + prefix_bytes, b.begin());
}

// Returns `rest` with its first `bits` bits replaced by those of `base`.
NodeId WithPrefixOf(const NodeId& base, int bits, const NodeId& rest) {
  std::array<uint8_t, NodeId::kBytes> bytes = rest.bytes();
  for (int i = 0; i < bits / 8; ++i) bytes[i] = base.bytes()[i];
  if (bits % 8 != 0) {
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits % 8));
    uint8_t& b = bytes[bits / 8];
    b = static_cast<uint8_t>((base.bytes()[bits / 8] & mask) | (b & ~mask));
  }
  return NodeId(bytes);
}

// Returns the position of the slot with `id` in `slots`, or slots.size()
// if there is none.
template <typename Slot>
size_t PositionOf(const std::vector<Slot>& slots, const NodeId& id) {
  size_t i = 0;
  while (i < slots.size() && slots[i].id != id) ++i;
  return i;
}

// Bucket storage doubles up to this many slots, then grows by as many at a
// time. Doubling all the way left a protocol-joined table with ~70 unused
// slots (2.3 KB) besides its ~150 entries at 20,000 nodes; steps of 4 leave
// at most 3 a bucket, for 7 reallocations to reach k = 20 instead of 5.
constexpr size_t kSlotsPerStep = 4;

// Makes room for one more element in `slots`, never past `limit` (a
// bucket's storage tracks its contents).
template <typename Slot>
void ReserveOneMore(std::vector<Slot>& slots, size_t limit) {
  if (slots.size() < slots.capacity()) return;
  const size_t step = std::clamp<size_t>(slots.size(), 1, kSlotsPerStep);
  slots.reserve(std::max(slots.size() + 1,
                         std::min(limit, slots.size() + step)));
}

// Gives back what `slots` holds beyond the step its size needs (after a
// split took half of a bucket's entries).
template <typename Slot>
void FitToStep(std::vector<Slot>& slots) {
  const size_t fit =
      (slots.size() + kSlotsPerStep - 1) / kSlotsPerStep * kSlotsPerStep;
  if (slots.capacity() <= fit) return;
  std::vector<Slot> fitted;
  fitted.reserve(fit);
  fitted.assign(slots.begin(), slots.end());
  slots.swap(fitted);
}

// Candidates Closest() keeps on the stack: two buckets and more at k = 20.
constexpr size_t kInlineCandidates = 48;

}  // namespace

RoutingTable::RoutingTable(const NodeId& self, RoutingTableOptions options,
                           absl::Time now)
    : self_(self),
      options_(options),
      epoch_(now),
      ipv6_pool_limit_(Ipv6PoolLimit(0)) {
  assert(options_.bucket_size > 0 && options_.replacement_cache_size > 0 &&
         options_.max_failures > 0 && options_.max_failures <= 255 &&
         options_.max_per_subnet > 0 && options_.max_per_subnet_in_table > 0);
  buckets_.emplace_back(NanosecondsOf(now));
}

RoutingTable::Update RoutingTable::OnResponse(const Contact& contact,
                                              absl::Time now) {
  const Update rejected{Update::Kind::kRejected, std::nullopt};
  if (contact.id == self_) return rejected;
  if (options_.id_binding.enforce &&
      !Admissible(CheckId(contact.id, contact.endpoint, options_.id_binding),
                  options_.id_binding)) {
    return rejected;
  }
  size_t index = BucketIndex(contact.id);
  if (FindSlot(index, contact.id) != nullptr) {
    return Refresh(index, contact, now);
  }
  // A newcomer may not take an entry's endpoint. The scan covers the whole
  // table, so it runs only where the newcomer could become an entry: a
  // replacement candidate is checked again when it is promoted.
  if (WouldAdmit(contact.id) && EndpointTaken(contact.endpoint, contact.id)) {
    return rejected;
  }
  index = SplitFor(contact.id);
  Bucket& bucket = buckets_[index];
  if (SubnetFull(index, contact)) return rejected;
  if (bucket.live.size() < static_cast<size_t>(options_.bucket_size)) {
    AddLive(bucket, MakeSlot(contact, SecondsOf(now)));
    return {Update::Kind::kAdded, std::nullopt};
  }
  if (DisplaceUnverified(bucket, contact, now)) {
    return {Update::Kind::kAdded, std::nullopt};
  }
  return Cache(bucket, contact, now);
}

bool RoutingTable::OnRequest(const Contact& contact, absl::Time now) {
  size_t index = BucketIndex(contact.id);
  std::vector<Slot>& live = buckets_[index].live;
  size_t pos = PositionOf(live, contact.id);
  if (pos == live.size() || !HasEndpoint(live[pos], contact.endpoint)) {
    return false;
  }
  Slot slot = std::move(live[pos]);
  slot.seen = SecondsOf(now);
  live.erase(live.begin() + pos);
  live.push_back(std::move(slot));
  return true;
}

void RoutingTable::OnFailure(const NodeId& id, absl::Time /*now*/) {
  size_t index = BucketIndex(id);
  Bucket& bucket = buckets_[index];
  size_t pos = PositionOf(bucket.live, id);
  if (pos == bucket.live.size()) {
    size_t cached = PositionOf(bucket.replacements, id);
    if (cached < bucket.replacements.size()) {
      bucket.replacements.erase(bucket.replacements.begin() + cached);
    }
    return;
  }
  Slot& slot = bucket.live[pos];
  slot.questioned = false;
  ++slot.failures;
  if (slot.failures >= options_.max_failures || !bucket.replacements.empty()) {
    RemoveLive(index, pos);
    FillFromCache(index);
  }
}

void RoutingTable::OnFailure(const Contact& contact, absl::Time now) {
  const Bucket& bucket = buckets_[BucketIndex(contact.id)];
  for (const std::vector<Slot>* slots : {&bucket.live, &bucket.replacements}) {
    size_t pos = PositionOf(*slots, contact.id);
    if (pos == slots->size()) continue;
    if (!HasEndpoint((*slots)[pos], contact.endpoint)) return;
    return OnFailure(contact.id, now);
  }
}

bool RoutingTable::WouldAdmit(const NodeId& id) const {
  if (id == self_) return false;
  size_t index = BucketIndex(id);
  if (buckets_[index].live.size() < static_cast<size_t>(options_.bucket_size)) {
    return true;
  }
  return index + 1 == buckets_.size() && FitsAfterSplits(id);
}

std::vector<Contact> RoutingTable::Closest(
    const NodeId& target, size_t count,
    const std::optional<NodeId>& except) const {
  // Distances fall into classes that never overlap: the target's own bucket
  // is nearest, then all buckets past it together, then each bucket before
  // it, farther and farther. Whole classes are gathered until `count`
  // candidates are in hand; only those are sorted. (So asking for one more
  // than a full bucket holds reads every bucket past it: leaving `except`
  // out here, rather than asking for k + 1 and dropping it, keeps a reply
  // to a far target to its own bucket.)
  struct Candidate {
    DistanceKey distance;
    const Slot* slot;
  };
  // On the stack for the usual request (k or k + 1 of a table of k = 20):
  // a node answers every find_node with one of these, and the heap's
  // allocator was ~3 % of a simulated join's time (docs/BENCH.md). Past
  // that, one allocation for the classes gathered (never more than the
  // table can hold).
  absl::InlinedVector<Candidate, kInlineCandidates> found;
  const size_t k = static_cast<size_t>(options_.bucket_size);
  found.reserve(std::min(count, kMaxBuckets * k) + k);
  auto gather = [&](size_t i) {
    for (const Slot& slot : buckets_[i].live) {
      if (except && slot.id == *except) continue;
      found.push_back({slot.id.DistanceKeyTo(target), &slot});
    }
  };
  size_t home = BucketIndex(target);
  gather(home);
  if (found.size() < count) {
    for (size_t i = home + 1; i < buckets_.size(); ++i) gather(i);
  }
  for (size_t i = home; i-- > 0 && found.size() < count;) gather(i);
  size_t n = std::min(count, found.size());
  auto nearer = [](const Candidate& a, const Candidate& b) {
    return a.distance < b.distance;
  };
  // Usually a bucket or two is gathered, n is most of it, and
  // partial_sort's heap loses to selecting and then sorting the n.
  std::nth_element(found.begin(), found.begin() + n, found.end(), nearer);
  std::sort(found.begin(), found.begin() + n, nearer);
  std::vector<Contact> closest;
  closest.reserve(n);
  for (size_t i = 0; i < n; ++i) closest.push_back(ContactOf(*found[i].slot));
  return closest;
}

void RoutingTable::Prefetch() const {
  PrefetchBytes(buckets_.data(), buckets_.size() * sizeof(Bucket));
}

std::optional<RoutingEntry> RoutingTable::Find(const NodeId& id) const {
  const std::vector<Slot>& live = buckets_[BucketIndex(id)].live;
  size_t pos = PositionOf(live, id);
  if (pos == live.size()) return std::nullopt;
  return EntryOf(live[pos]);
}

void RoutingTable::Touch(const NodeId& target, absl::Time now) {
  buckets_[BucketIndex(target)].last_touched = NanosecondsOf(now);
}

std::vector<NodeId> RoutingTable::TargetsToRefresh(absl::Time now,
                                                   absl::BitGenRef gen) {
  std::vector<NodeId> targets;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    absl::Time touched = epoch_ + absl::Nanoseconds(buckets_[i].last_touched);
    if (now - touched < options_.refresh_interval) continue;
    targets.push_back(RandomIdIn(i, gen));
    buckets_[i].last_touched = NanosecondsOf(now);
  }
  return targets;
}

std::vector<NodeId> RoutingTable::TargetsInEmptyFartherRanges(
    absl::BitGenRef gen) const {
  std::array<bool, NodeId::kBits + 1> held{};
  int nearest = -1;  // The nearest neighbour's common prefix length.
  for (const Bucket& bucket : buckets_) {
    for (const Slot& slot : bucket.live) {
      const int shared = self_.CommonPrefixLength(slot.id);
      held[shared] = true;
      nearest = std::max(nearest, shared);
    }
  }
  std::vector<NodeId> targets;
  for (int shared = 0; shared < nearest; ++shared) {
    if (!held[shared]) {
      targets.push_back(NodeId::RandomWithPrefix(self_, shared, gen));
    }
  }
  return targets;
}

std::vector<NodeId> RoutingTable::IdsSeenSince(absl::Time since) const {
  const uint32_t seconds = SecondsOf(since);
  std::vector<NodeId> ids;
  for (const Bucket& bucket : buckets_) {
    for (const Slot& slot : bucket.live) {
      if (slot.seen >= seconds) ids.push_back(slot.id);
    }
  }
  return ids;
}

std::vector<Contact> RoutingTable::AllContacts() const {
  std::vector<Contact> all;
  for (const Bucket& bucket : buckets_) {
    size_t first = all.size();
    for (const Slot& slot : bucket.live) all.push_back(ContactOf(slot));
    std::sort(all.begin() + first, all.end(),
              [](const Contact& a, const Contact& b) { return a.id < b.id; });
  }
  return all;
}

std::vector<BucketInfo> RoutingTable::Buckets() const {
  std::vector<BucketInfo> info;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    const Bucket& b = buckets_[i];
    info.push_back({static_cast<int>(i), b.live.size(), b.replacements.size(),
                    epoch_ + absl::Nanoseconds(b.last_touched)});
  }
  return info;
}

size_t RoutingTable::size() const {
  size_t total = 0;
  for (const Bucket& bucket : buckets_) total += bucket.live.size();
  return total;
}

size_t RoutingTable::BucketIndex(const NodeId& id) const {
  size_t cpl = static_cast<size_t>(self_.CommonPrefixLength(id));
  return std::min(cpl, buckets_.size() - 1);
}

RoutingTable::Slot* RoutingTable::FindSlot(size_t bucket, const NodeId& id) {
  std::vector<Slot>& live = buckets_[bucket].live;
  size_t pos = PositionOf(live, id);
  return pos == live.size() ? nullptr : &live[pos];
}

bool RoutingTable::EndpointTaken(const net::Endpoint& endpoint,
                                 const NodeId& id) const {
  const uint64_t bit = EndpointBit(endpoint.address(), endpoint.port());
  for (const Bucket& bucket : buckets_) {
    if ((bucket.endpoints & bit) == 0) continue;
    for (const Slot& slot : bucket.live) {
      if (HasEndpoint(slot, endpoint)) return slot.id != id;
    }
  }
  return false;
}

bool RoutingTable::Exempt(const net::Endpoint& endpoint) const {
  return net::AnyContains(options_.prefix_limit_exempt, endpoint);
}

bool RoutingTable::SubnetFull(size_t index, const Contact& contact) const {
  if (Exempt(contact.endpoint)) return false;
  int in_bucket = 0;
  int in_table = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    for (const Slot& slot : buckets_[i].live) {
      if (slot.id == contact.id ||
          !SameSubnet(AddressOf(slot), contact.endpoint.address())) {
        continue;
      }
      if (i == index) ++in_bucket;
      ++in_table;
    }
  }
  return in_bucket >= options_.max_per_subnet ||
         in_table >= options_.max_per_subnet_in_table;
}

RoutingTable::Update RoutingTable::Refresh(size_t index, const Contact& contact,
                                           absl::Time now) {
  Bucket& bucket = buckets_[index];
  size_t pos = PositionOf(bucket.live, contact.id);
  Slot slot;
  if (HasEndpoint(bucket.live[pos], contact.endpoint)) {
    slot = bucket.live[pos];  // Keeps its address, interned or not.
    slot.seen = SecondsOf(now);
    slot.failures = 0;
    slot.questioned = false;
  } else if (bucket.live[pos].failures == 0) {
    // A known id answering from a new endpoint while its old one has not
    // failed: an impostor, or a node that moved. Believe the old endpoint
    // until a request to it fails; ask for that request now.
    Slot& old = bucket.live[pos];
    Update update{Update::Kind::kRejected, std::nullopt};
    if (!old.questioned) {
      old.questioned = true;
      update.ping_to_evict = ContactOf(old);
    }
    return update;
  } else if (EndpointTaken(contact.endpoint, contact.id) ||
             SubnetFull(index, contact)) {
    return {Update::Kind::kRejected, std::nullopt};
  } else {
    slot = MakeSlot(contact, SecondsOf(now));
  }
  bucket.live.erase(bucket.live.begin() + pos);
  bucket.live.push_back(slot);
  bucket.endpoints |= EndpointBitOf(slot);
  return {Update::Kind::kRefreshed, std::nullopt};
}

size_t RoutingTable::SplitFor(const NodeId& id) {
  size_t index = BucketIndex(id);
  while (index + 1 == buckets_.size() &&
         buckets_[index].live.size() >=
             static_cast<size_t>(options_.bucket_size) &&
         buckets_.size() < static_cast<size_t>(kMaxBuckets)) {
    SplitLast();
    index = BucketIndex(id);
  }
  return index;
}

void RoutingTable::SplitLast() {
  const int level = static_cast<int>(buckets_.size()) - 1;
  const int64_t touched = buckets_.back().last_touched;
  // Grow by one, not by doubling: a million-node table has ~18 buckets,
  // and doubling would leave room for 14 more nobody uses (~800 bytes).
  // At most 159 splits ever happen, each moving a few vectors' pointers.
  buckets_.reserve(buckets_.size() + 1);
  buckets_.emplace_back(touched);
  Bucket& near = buckets_.back();
  Bucket& far = buckets_[buckets_.size() - 2];
  auto live_end = std::stable_partition(
      far.live.begin(), far.live.end(),
      [&](const Slot& s) { return self_.CommonPrefixLength(s.id) == level; });
  near.live.reserve(static_cast<size_t>(far.live.end() - live_end));
  std::move(live_end, far.live.end(), std::back_inserter(near.live));
  far.live.erase(live_end, far.live.end());
  FitToStep(far.live);
  RebuildEndpoints(far);
  RebuildEndpoints(near);
  // Only a bucket that cannot split takes candidates, so the last bucket
  // has none to hand over.
  assert(far.replacements.empty());
}

RoutingTable::Update RoutingTable::Cache(Bucket& bucket,
                                         const Contact& candidate,
                                         absl::Time now) {
  std::vector<Slot>& cache = bucket.replacements;
  std::erase_if(cache, [&](const Slot& e) {
    return e.id == candidate.id || HasEndpoint(e, candidate.endpoint);
  });
  if (!Exempt(candidate.endpoint)) {
    auto same = std::count_if(cache.begin(), cache.end(), [&](const Slot& e) {
      return SameSubnet(AddressOf(e), candidate.endpoint.address());
    });
    if (same >= options_.max_per_subnet) {
      return {Update::Kind::kRejected, std::nullopt};
    }
  }
  const size_t limit = static_cast<size_t>(options_.replacement_cache_size);
  if (cache.size() == limit) cache.pop_back();
  ReserveOneMore(cache, limit);
  Slot entry = MakeSlot(candidate, SecondsOf(now));
  cache.insert(cache.begin(), entry);
  Update update{Update::Kind::kCached, std::nullopt};
  for (Slot& slot : bucket.live) {
    // An unverified newcomer never puts a verified entry in question.
    if (slot.questioned || (slot.verified && !entry.verified)) continue;
    // Least recently seen first: if this one is presumed alive, all are.
    absl::Time last_seen = epoch_ + absl::Seconds(slot.seen);
    if (now - last_seen < options_.presumed_alive_for) break;
    slot.questioned = true;
    update.ping_to_evict = ContactOf(slot);
    break;
  }
  return update;
}

bool RoutingTable::Verified(const Contact& contact) const {
  return CheckId(contact.id, contact.endpoint, options_.id_binding) ==
         IdCheck::kVerified;
}

bool RoutingTable::DisplaceUnverified(Bucket& bucket, const Contact& contact,
                                      absl::Time now) {
  // Least recently seen first.
  auto unverified = std::find_if(bucket.live.begin(), bucket.live.end(),
                                 [](const Slot& s) { return !s.verified; });
  if (unverified == bucket.live.end() || !Verified(contact) ||
      EndpointTaken(contact.endpoint, contact.id)) {
    return false;
  }
  bucket.live.erase(unverified);
  std::erase_if(bucket.replacements,
                [&](const Slot& s) { return s.id == contact.id; });
  AddLive(bucket, MakeSlot(contact, SecondsOf(now)));
  return true;
}

void RoutingTable::AddLive(Bucket& bucket, Slot entry) {
  entry.questioned = false;
  ReserveOneMore(bucket.live, static_cast<size_t>(options_.bucket_size));
  // Keep least-recently-seen first: a promoted candidate may be older than
  // entries seen since.
  auto pos = std::find_if(bucket.live.begin(), bucket.live.end(),
                          [&](const Slot& s) { return s.seen > entry.seen; });
  bucket.endpoints |= EndpointBitOf(entry);
  bucket.live.insert(pos, std::move(entry));
}

void RoutingTable::RemoveLive(size_t index, size_t position) {
  Bucket& bucket = buckets_[index];
  bucket.live.erase(bucket.live.begin() + position);
  RebuildEndpoints(bucket);
}

void RoutingTable::FillFromCache(size_t index) {
  Bucket& bucket = buckets_[index];
  while (bucket.live.size() < static_cast<size_t>(options_.bucket_size) &&
         !bucket.replacements.empty()) {
    // Verified candidates first, then the most recent.
    auto pick = std::find_if(bucket.replacements.begin(),
                             bucket.replacements.end(),
                             [](const Slot& s) { return s.verified; });
    if (pick == bucket.replacements.end()) pick = bucket.replacements.begin();
    Slot candidate = *pick;
    bucket.replacements.erase(pick);
    // Entries may have claimed its endpoint or subnet since it was cached.
    Contact contact = ContactOf(candidate);
    if (EndpointTaken(contact.endpoint, contact.id) ||
        SubnetFull(index, contact)) {
      continue;
    }
    AddLive(bucket, candidate);
  }
}

bool RoutingTable::FitsAfterSplits(const NodeId& id) const {
  // Replays SplitFor on counts: at each level the last bucket keeps the ids
  // whose CPL equals the level and hands the rest to a new last bucket.
  const std::vector<Slot>& live = buckets_.back().live;
  const size_t k = static_cast<size_t>(options_.bucket_size);
  const int cpl = self_.CommonPrefixLength(id);
  auto count = [&](auto predicate) {
    return static_cast<size_t>(
        std::count_if(live.begin(), live.end(), [&](const Slot& s) {
          return predicate(self_.CommonPrefixLength(s.id));
        }));
  };
  for (int level = static_cast<int>(buckets_.size()) - 1;
       level < kMaxBuckets - 1; ++level) {
    if (cpl == level) {
      return count([&](int c) { return c == level; }) < k;
    }
    if (count([&](int c) { return c > level; }) < k) return true;
  }
  return false;
}

NodeId RoutingTable::RandomIdIn(size_t index, absl::BitGenRef gen) const {
  const int prefix = static_cast<int>(index);
  if (index + 1 < buckets_.size()) {
    return NodeId::RandomWithPrefix(self_, prefix, gen);
  }
  return WithPrefixOf(self_, prefix, NodeId::Random(gen));
}

}  // namespace kad::dht

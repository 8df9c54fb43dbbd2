// SourceTable: a bounded map from SourceKey to a small Value, for state
// kept per source address or prefix (request buckets, reply budgets).
//
// Bounded, and no bigger than it has to be: the table starts with no heap
// at all and grows one entry per source actually seen, up to max_entries;
// a node that hears from forty peers holds at most forty entries, whatever
// its max_entries. An entry whose Value is idle (IsIdle(now): a full
// bucket, no ban) says nothing a fresh entry would not, so a new source
// takes the slot of an idle entry among the least recently used few
// (kIdleSearch) before the table grows; live entries passed over move to
// the front (a second chance, as in the CLOCK algorithm). When none of
// them is idle and the table is full, the entry then least recently used
// is forgotten outright (counted in live_evictions()).
// Entries are marked used by Find and Insert, so a source that keeps
// sending keeps its state however many others pass through; only state
// of a source quieter than the whole table's turnover can be forgotten.
//
// Memory: one Slot per entry — the key (8 + 1 bytes), two 32-bit list
// links and the Value, padded to 8 bytes — in a vector that grows to at
// most max_entries, plus an index of one 32-bit slot number and one
// control byte per bucket of an absl::flat_hash_set, whose bucket count is
// below 4 * max_entries + 16 (a power of two minus one with the load at
// most 7/8; churn can double it once). MemoryBytes() reports both.
//
// Order is LRU, never hash order: decisions do not depend on the hash
// seed. Keys come from strangers; the index uses absl::Hash, which is
// seeded per process.
//
// Value must be default-constructible (a fresh entry), and have
// `bool IsIdle(int64_t now_ns) const`.
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_SOURCE_TABLE_H_
#define KAD_DHT_SOURCE_TABLE_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "dht/source_key.h"

namespace kad::dht {

template <typename Value>
class SourceTable {
 public:
  using Index = uint32_t;
  static constexpr Index kNone = std::numeric_limits<Index>::max();
  // How many least-recently-used entries a full table looks at for an idle
  // one before it evicts a live entry.
  static constexpr int kIdleSearch = 4;

  // `max_entries` must be at least 2 (a datagram may need two entries).
  explicit SourceTable(size_t max_entries) : max_entries_(max_entries) {
    assert(max_entries >= 2 && max_entries < kNone);
  }

  // Returns the entry of `key` and marks it most recently used, or kNone.
  Index Find(const SourceKey& key) {
    Index i = Peek(key);
    if (i != kNone) MoveToFront(i);
    return i;
  }
  // Returns the entry of `key` without marking it used, or kNone.
  Index Peek(const SourceKey& key) const {
    if (!storage_) return kNone;
    auto it = storage_->index.find(key);
    return it == storage_->index.end() ? kNone : *it;
  }
  // Adds `key`, which must be absent, with a fresh Value, as the most
  // recently used entry, and returns it. Never reuses the slot of `keep`.
  Index Insert(const SourceKey& key, int64_t now_ns, Index keep = kNone) {
    if (!storage_) storage_ = std::make_unique<Storage>();
    Storage& s = *storage_;
    // Reuse an idle slot among the least recently used few; a live one
    // passed over gets a second chance at the front.
    for (int tries = 0; tries < kIdleSearch && s.tail != kNone; ++tries) {
      Index candidate = s.tail;
      if (candidate != keep && Idle(candidate, now_ns)) {
        return Reuse(candidate, key);
      }
      MoveToFront(candidate);
    }
    if (s.slots.size() < max_entries_) return Append(key);
    Index victim = s.tail == keep ? s.slots[s.tail].prev : s.tail;
    if (!Idle(victim, now_ns)) ++live_evictions_;
    return Reuse(victim, key);
  }

  Value& value(Index i) { return storage_->slots[i].value; }
  const Value& value(Index i) const { return storage_->slots[i].value; }

  size_t size() const { return storage_ ? storage_->slots.size() : 0; }
  size_t max_entries() const { return max_entries_; }
  // Entries forgotten while not idle, because the table was full.
  uint64_t live_evictions() const { return live_evictions_; }
  // Returns the heap the table holds, in bytes.
  size_t MemoryBytes() const {
    if (!storage_) return 0;
    size_t buckets = storage_->index.bucket_count();
    size_t index_bytes =
        buckets == 0 ? 0 : buckets * (sizeof(Index) + 1) + 16;  // + cloned
    return sizeof(Storage) + storage_->slots.capacity() * sizeof(Slot) +
           index_bytes;
  }

 private:
  struct Slot {
    uint64_t key_bits;
    Index prev;  // towards the most recently used; kNone at the front
    Index next;  // towards the least recently used; kNone at the back
    Value value;
    SourceKind key_kind;
    SourceKey key() const { return {key_bits, key_kind}; }
  };
  // The index holds slot numbers; hashing and comparing look the key up in
  // the slots, so an index bucket costs 4 bytes rather than a key's 16.
  struct KeyHash {
    using is_transparent = void;
    const std::vector<Slot>* slots;
    size_t operator()(const SourceKey& key) const {
      return absl::Hash<SourceKey>()(key);
    }
    size_t operator()(Index i) const { return (*this)((*slots)[i].key()); }
  };
  struct KeyEq {
    using is_transparent = void;
    const std::vector<Slot>* slots;
    bool operator()(Index a, Index b) const { return a == b; }
    bool operator()(const SourceKey& key, Index i) const {
      const Slot& slot = (*slots)[i];
      return slot.key_bits == key.bits && slot.key_kind == key.kind;
    }
    bool operator()(Index i, const SourceKey& key) const {
      return (*this)(key, i);
    }
  };
  // On the heap, so the index's functors can point at `slots` while the
  // table itself moves.
  struct Storage {
    Storage() : index(0, KeyHash{&slots}, KeyEq{&slots}) {}
    std::vector<Slot> slots;
    absl::flat_hash_set<Index, KeyHash, KeyEq> index;
    Index head = kNone;  // most recently used
    Index tail = kNone;  // least recently used
  };

  bool Idle(Index i, int64_t now_ns) const {
    return storage_->slots[i].value.IsIdle(now_ns);
  }

  Index Append(const SourceKey& key) {
    Storage& s = *storage_;
    if (s.slots.size() == s.slots.capacity()) {
      s.slots.reserve(
          std::min(max_entries_, std::max<size_t>(4, 2 * s.slots.capacity())));
    }
    Index i = static_cast<Index>(s.slots.size());
    s.slots.push_back({key.bits, kNone, kNone, Value{}, key.kind});
    LinkFront(i);
    s.index.insert(i);
    return i;
  }

  Index Reuse(Index i, const SourceKey& key) {
    Storage& s = *storage_;
    s.index.erase(s.slots[i].key());
    s.slots[i].key_bits = key.bits;
    s.slots[i].key_kind = key.kind;
    s.slots[i].value = Value{};
    MoveToFront(i);
    s.index.insert(i);
    return i;
  }

  void Unlink(Index i) {
    Storage& s = *storage_;
    Slot& slot = s.slots[i];
    (slot.prev == kNone ? s.head : s.slots[slot.prev].next) = slot.next;
    (slot.next == kNone ? s.tail : s.slots[slot.next].prev) = slot.prev;
  }
  void LinkFront(Index i) {
    Storage& s = *storage_;
    s.slots[i].prev = kNone;
    s.slots[i].next = s.head;
    (s.head == kNone ? s.tail : s.slots[s.head].prev) = i;
    s.head = i;
  }
  void MoveToFront(Index i) {
    if (storage_->head == i) return;
    Unlink(i);
    LinkFront(i);
  }

  size_t max_entries_;
  uint64_t live_evictions_ = 0;
  std::unique_ptr<Storage> storage_;  // Allocated by the first Insert.
};

}  // namespace kad::dht

#endif  // KAD_DHT_SOURCE_TABLE_H_

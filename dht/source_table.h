// SourceTable: a bounded map from SourceKey to a small Value, for state
// kept per source address or prefix (request buckets, reply budgets).
//
// Small, and bounded: the table starts with no heap at all, grows with the
// sources actually seen, and never holds more than max_entries slots, so
// its memory is bounded however many source addresses are forged. A node
// that hears from forty peers at a time holds a few dozen slots.
//
// Layout: a set-associative cache, as CPU caches and some packet filters
// are built. Slots sit in groups of kWays; a key lives in the one group its
// (seeded) hash picks, so a lookup reads one group (320 contiguous bytes
// for AdmissionControl's entries) and there is no separate index or list.
// Inserting takes a free slot of the key's group, or one whose Value is
// idle (IdleAt() <= now: a full bucket, no ban — it says nothing a fresh
// entry would not). If the group has neither:
//   - if at least half the slots are in use and the table is below
//     max_entries, it is rebuilt without its idle entries, at twice the
//     size unless fewer than a quarter of the slots were live;
//   - otherwise the group forgets the entry holding the least state (the
//     one idle soonest), counted in live_evictions(). For rate limits that
//     only ever errs towards admitting: a forgotten source starts again
//     with a full bucket, while a flooder or a banned source, holding the
//     most state, is the last of its group to go. With eight ways, filling
//     a table to half forgets about 2% of its entries this way.
// The table never shrinks: a burst of live sources leaves its slots behind
// (reused, never more than max_entries).
//
// Memory: capacity() slots of 8 (key) + sizeof(Value) + 2 bytes, padded to
// 8; capacity() is a power of two, at most max_entries rounded up to one.
// Growing briefly holds the old and the new slots. MemoryBytes() reports
// the steady figure.
//
// Keys come from strangers: the group is picked by a 64-bit mix of the key
// and `seed`; a real node passes a secret seed, so nobody can aim keys at
// one group. Which entry a full group forgets depends on the seed, so a
// seed is part of what makes a run reproducible; nothing ever depends on
// memory addresses or iteration order.
//
// Value must be default-constructible (a fresh entry) and have
// `int64_t IdleAt() const`: the time, in nanoseconds, from which the entry
// is idle.
//
// Insert invalidates the indices returned before it (the table may grow).
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_SOURCE_TABLE_H_
#define KAD_DHT_SOURCE_TABLE_H_

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "dht/source_key.h"

namespace kad::dht {

template <typename Value>
class SourceTable {
 public:
  using Index = uint32_t;
  static constexpr Index kNone = std::numeric_limits<Index>::max();
  static constexpr size_t kWays = 8;

  // `max_entries` is rounded up to a power of two, at least kWays.
  explicit SourceTable(size_t max_entries, uint64_t seed = 0)
      : max_slots_(std::bit_ceil(std::max(max_entries, kWays))), seed_(seed) {
    assert(max_entries < kNone);
  }

  // Returns the entry of `key`, or kNone.
  Index Find(const SourceKey& key) const {
    if (slots_.empty()) return kNone;
    size_t group = GroupOf(key);
    for (size_t i = group; i < group + kWays; ++i) {
      const Slot& slot = slots_[i];
      if (slot.used && slot.key_bits == key.bits && slot.key_kind == key.kind) {
        return static_cast<Index>(i);
      }
    }
    return kNone;
  }

  // Adds `key`, which must be absent, with a fresh Value at `now_ns`, and
  // returns its entry. Never forgets the entry of `keep`, if given.
  Index Insert(const SourceKey& key, int64_t now_ns,
               const SourceKey* keep = nullptr) {
    if (slots_.empty()) slots_.resize(kWays);
    for (;;) {
      size_t group = GroupOf(key);
      for (size_t i = group; i < group + kWays; ++i) {
        const Slot& slot = slots_[i];
        if (!slot.used ||
            (slot.value.IdleAt() <= now_ns && !Holds(slot, keep))) {
          return Take(i, key);
        }
      }
      if (slots_.size() < max_slots_ && 2 * used_ >= slots_.size()) {
        Rebuild(now_ns);
        continue;
      }
      size_t victim = kNone;
      for (size_t i = group; i < group + kWays; ++i) {
        if (Holds(slots_[i], keep)) continue;
        if (victim == kNone ||
            slots_[i].value.IdleAt() < slots_[victim].value.IdleAt()) {
          victim = i;
        }
      }
      ++live_evictions_;
      return Take(victim, key);
    }
  }

  Value& value(Index i) { return slots_[i].value; }
  const Value& value(Index i) const { return slots_[i].value; }

  // Entries in use, idle ones not yet reused included.
  size_t size() const { return used_; }
  // Slots allocated.
  size_t capacity() const { return slots_.size(); }
  size_t max_entries() const { return max_slots_; }
  // Entries forgotten while not idle: a full group, or a full table.
  uint64_t live_evictions() const { return live_evictions_; }
  // Returns the heap the table holds, in bytes.
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t key_bits = 0;
    Value value;
    SourceKind key_kind = SourceKind::kIpv4Address;
    bool used = false;
  };

  static bool Holds(const Slot& slot, const SourceKey* key) {
    return key != nullptr && slot.key_bits == key->bits &&
           slot.key_kind == key->kind;
  }

  // Returns the first slot of `key`'s group.
  size_t GroupOf(const SourceKey& key) const {
    // MurmurHash3's 64-bit finaliser over the key and the seed.
    uint64_t h = key.bits ^ seed_ ^
                 (static_cast<uint64_t>(key.kind) * 0x9e3779b97f4a7c15u);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return (h & (slots_.size() / kWays - 1)) * kWays;
  }

  Index Take(size_t i, const SourceKey& key) {
    Slot& slot = slots_[i];
    if (!slot.used) ++used_;
    slot = Slot{key.bits, Value{}, key.kind, true};
    return static_cast<Index>(i);
  }

  // Moves the live entries to fresh slots, twice as many if at least a
  // quarter are live. A group of the new table receives entries of one old
  // group only, so they always fit.
  void Rebuild(int64_t now_ns) {
    size_t live = 0;
    for (const Slot& slot : slots_) {
      live += slot.used && slot.value.IdleAt() > now_ns;
    }
    size_t size = slots_.size();
    if (4 * live >= size) size *= 2;
    std::vector<Slot> old(size);
    old.swap(slots_);
    used_ = 0;
    for (const Slot& slot : old) {
      if (!slot.used || slot.value.IdleAt() <= now_ns) continue;
      size_t group = GroupOf({slot.key_bits, slot.key_kind});
      size_t i = group;
      while (slots_[i].used) ++i;
      assert(i < group + kWays);
      slots_[i] = slot;
      ++used_;
    }
  }

  size_t max_slots_;
  uint64_t seed_;
  size_t used_ = 0;
  uint64_t live_evictions_ = 0;
  std::vector<Slot> slots_;  // Groups of kWays; empty until the first Insert.
};

}  // namespace kad::dht

#endif  // KAD_DHT_SOURCE_TABLE_H_

#include "bench/oracle_join.h"

#include <algorithm>
#include <array>
#include <random>
#include <utility>
#include <vector>

namespace kad::bench {
namespace {

using dht::Contact;
using dht::NodeId;

// Tables filled between calls of keep_going.
constexpr size_t kNodesPerCheck = 4096;

// Returns `base` with its first `bits` bits kept, bit `bits` set to
// `branch`, and every later bit set to `fill`: the lowest (fill = false)
// or highest (fill = true) id of that subtree.
NodeId SubtreeBound(const NodeId& base, int bits, bool branch, bool fill) {
  std::array<uint8_t, NodeId::kBytes> bytes = base.bytes();
  for (int i = bits; i < NodeId::kBits; ++i) {
    const bool bit = i == bits ? branch : fill;
    const auto mask = static_cast<uint8_t>(0x80 >> (i % 8));
    bytes[i / 8] = bit ? (bytes[i / 8] | mask) : (bytes[i / 8] & ~mask);
  }
  return NodeId(bytes);
}

// The contacts sorted by id, with the range helpers the fill needs.
class SortedIds {
 public:
  explicit SortedIds(std::vector<Contact> contacts)
      : contacts_(std::move(contacts)) {
    std::sort(contacts_.begin(), contacts_.end(),
              [](const Contact& a, const Contact& b) { return a.id < b.id; });
  }

  // Returns the index range of ids sharing the first `bits` bits of `base`
  // and having bit `bits` equal to `branch`.
  std::pair<size_t, size_t> Subtree(const NodeId& base, int bits,
                                    bool branch) const {
    const NodeId low = SubtreeBound(base, bits, branch, false);
    const NodeId high = SubtreeBound(base, bits, branch, true);
    auto by_id = [](const Contact& c, const NodeId& id) { return c.id < id; };
    auto first = std::lower_bound(contacts_.begin(), contacts_.end(), low, by_id);
    auto last = std::upper_bound(
        first, contacts_.end(), high,
        [](const NodeId& id, const Contact& c) { return id < c.id; });
    return {static_cast<size_t>(first - contacts_.begin()),
            static_cast<size_t>(last - contacts_.begin())};
  }

  const Contact& operator[](size_t i) const { return contacts_[i]; }
  size_t size() const { return contacts_.size(); }

 private:
  std::vector<Contact> contacts_;
};

// Appends `count` distinct contacts drawn from [first, last) to `out`, or
// all of them if the range is no larger.
void Draw(const SortedIds& ids, size_t first, size_t last, size_t count,
          std::mt19937_64& gen, std::vector<Contact>& out) {
  if (last - first <= count) {
    for (size_t i = first; i < last; ++i) out.push_back(ids[i]);
    return;
  }
  std::vector<size_t> picked;  // Floyd's algorithm: distinct, in draw order.
  for (size_t j = last - first - count; j < last - first; ++j) {
    const size_t t = std::uniform_int_distribution<size_t>(0, j)(gen);
    const bool seen = std::find(picked.begin(), picked.end(), t) != picked.end();
    picked.push_back(seen ? j : t);
  }
  for (size_t i : picked) out.push_back(ids[first + i]);
}

// Appends the `count` nodes nearest to `self` by XOR distance (self
// included, if it is among `ids`): what a self-lookup brings in.
void Nearest(const SortedIds& ids, const NodeId& self, size_t count,
             std::vector<Contact>& out) {
  size_t first = 0, last = ids.size();
  for (int bits = 0; bits < NodeId::kBits; ++bits) {
    const auto [f, l] = ids.Subtree(self, bits, self.Bit(bits));
    if (l - f < count) break;
    first = f;
    last = l;
  }
  std::vector<Contact> near;
  for (size_t i = first; i < last; ++i) near.push_back(ids[i]);
  const size_t keep = std::min(count, near.size());
  std::partial_sort(near.begin(), near.begin() + keep, near.end(),
                    [&](const Contact& a, const Contact& b) {
                      return dht::CloserTo{self}(a.id, b.id);
                    });
  out.insert(out.end(), near.begin(), near.begin() + keep);
}

// Returns the contacts a converged overlay gives the node with id `self`:
// its nearest neighbours first (the self-lookup), then up to k random ids
// per bucket (the bucket refreshes); those that find their bucket full
// stay out, as in a real table.
std::vector<Contact> ConvergedTable(const SortedIds& ids, const NodeId& self,
                                    size_t bucket_size, std::mt19937_64& gen) {
  std::vector<Contact> table;
  Nearest(ids, self, 2 * bucket_size + 1, table);
  for (int bits = 0; bits < NodeId::kBits; ++bits) {
    const auto [own_first, own_last] = ids.Subtree(self, bits, self.Bit(bits));
    if (own_last - own_first <= 1) break;  // Nobody else shares our prefix.
    const auto [far_first, far_last] = ids.Subtree(self, bits, !self.Bit(bits));
    Draw(ids, far_first, far_last, bucket_size, gen, table);
  }
  return table;
}

}  // namespace

void OracleJoin(std::span<dht::Node* const> nodes, int bucket_size,
                uint64_t seed) {
  OracleJoin(nodes, bucket_size, seed, [](size_t) { return true; });
}

size_t OracleJoin(std::span<dht::Node* const> nodes, int bucket_size,
                  uint64_t seed,
                  absl::FunctionRef<bool(size_t done)> keep_going) {
  std::vector<Contact> contacts;
  contacts.reserve(nodes.size());
  for (const dht::Node* node : nodes) {
    contacts.push_back({node->id(), node->endpoint()});
  }
  const SortedIds ids(std::move(contacts));
  std::mt19937_64 gen(seed);
  size_t done = 0;
  for (dht::Node* node : nodes) {
    if (done % kNodesPerCheck == 0 && !keep_going(done)) break;
    node->AdoptContacts(ConvergedTable(
        ids, node->id(), static_cast<size_t>(bucket_size), gen));
    ++done;
  }
  return done;
}

}  // namespace kad::bench

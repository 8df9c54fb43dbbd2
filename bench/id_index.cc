#include "bench/id_index.h"

#include <cassert>
#include <iterator>

namespace kad::bench {
namespace {

// Returns `id` with bits from `bit` on cleared, then `bit` set: the
// smallest id in the upper half of the subtree at that depth.
dht::NodeId UpperHalfStart(const dht::NodeId& id, int bit) {
  std::array<uint8_t, dht::NodeId::kBytes> bytes = id.bytes();
  const int byte = bit / 8;
  const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
  bytes[byte] = static_cast<uint8_t>((bytes[byte] & ~(2 * mask - 1)) | mask);
  for (size_t i = byte + 1; i < bytes.size(); ++i) bytes[i] = 0;
  return dht::NodeId(bytes);
}

}  // namespace

void IdIndex::Add(const dht::NodeId& id, size_t index) {
  [[maybe_unused]] bool added = ids_.emplace(id, index).second;
  assert(added);
}

void IdIndex::Remove(const dht::NodeId& id) { ids_.erase(id); }

std::vector<size_t> IdIndex::Closest(const dht::NodeId& target, size_t count,
                                     std::optional<size_t> excluded) const {
  Walk walk{target, count, excluded, {}};
  Visit(ids_.begin(), ids_.end(), 0, walk);
  return std::move(walk.found);
}

void IdIndex::Visit(Map::const_iterator lo, Map::const_iterator hi, int bit,
                    Walk& walk) const {
  if (lo == hi || walk.found.size() >= walk.count) return;
  if (std::next(lo) == hi || bit == dht::NodeId::kBits) {
    for (; lo != hi && walk.found.size() < walk.count; ++lo) {
      if (lo->second != walk.excluded) walk.found.push_back(lo->second);
    }
    return;
  }
  const Map::const_iterator split =
      ids_.lower_bound(UpperHalfStart(lo->first, bit));
  if (walk.target.Bit(bit)) {
    Visit(split, hi, bit + 1, walk);
    Visit(lo, split, bit + 1, walk);
  } else {
    Visit(lo, split, bit + 1, walk);
    Visit(split, hi, bit + 1, walk);
  }
}

}  // namespace kad::bench

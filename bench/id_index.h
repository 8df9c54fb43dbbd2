// IdIndex: the ids of an overlay's live nodes, ordered, to answer "which
// nodes are truly closest to this id?" — the ground truth a benchmark
// checks lookups against, and the replica holders the flooding baseline
// searches for.
//
// Closest() walks the ids as a binary trie in XOR order (at each bit the
// half that agrees with the target first), so it costs O(160 log n) per
// id returned, not a scan of every node: fine for a million nodes.
//
// Not thread-safe.
#ifndef KAD_BENCH_ID_INDEX_H_
#define KAD_BENCH_ID_INDEX_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/container/btree_map.h"
#include "dht/node_id.h"

namespace kad::bench {

class IdIndex {
 public:
  // Adds node `index` with `id`; ids must be distinct (asserted).
  void Add(const dht::NodeId& id, size_t index);
  void Remove(const dht::NodeId& id);
  size_t size() const { return ids_.size(); }

  // Returns the indices of the up to `count` nodes closest to `target` by
  // XOR distance, closest first, leaving out `excluded` if given.
  std::vector<size_t> Closest(const dht::NodeId& target, size_t count,
                              std::optional<size_t> excluded = {}) const;

 private:
  using Map = absl::btree_map<dht::NodeId, size_t>;
  struct Walk {
    const dht::NodeId& target;
    size_t count;
    std::optional<size_t> excluded;
    std::vector<size_t> found;
  };
  // Visits [lo, hi), whose ids share their first `bit` bits, in XOR order.
  void Visit(Map::const_iterator lo, Map::const_iterator hi, int bit,
             Walk& walk) const;

  Map ids_;
};

}  // namespace kad::bench

#endif  // KAD_BENCH_ID_INDEX_H_

// ReleaseIfSparse: gives back the storage of a mostly empty Abseil hash
// container.
//
// flat_hash_map and flat_hash_set never shrink on erase: a burst (the
// requests of a join, the strangers probed while it runs) would pin its
// high-water capacity for the node's lifetime. Containers that fill in
// bursts call this after erasing. An emptied container frees its array
// (a small one too: an idle node's pending-request map is the common
// case, and its array is ~150 bytes a slot); a larger one rehashes to fit
// once fewer than 1/8 of its slots are used, so each shrink follows at
// least as many erases as it moves elements (amortised O(1)).
//
// Rehashing moves elements: call it only where no reference or iterator
// into the container is held.
#ifndef KAD_DHT_RELEASE_IF_SPARSE_H_
#define KAD_DHT_RELEASE_IF_SPARSE_H_

#include <cstddef>

namespace kad::dht {

// Non-empty containers of at most this capacity are left alone: not worth
// a reallocation.
inline constexpr size_t kSmallHashCapacity = 15;

template <typename HashContainer>
void ReleaseIfSparse(HashContainer& container) {
  if (container.empty() ? container.capacity() > 0
                        : container.capacity() > kSmallHashCapacity &&
                              container.size() * 8 < container.capacity()) {
    container.rehash(0);
  }
}

}  // namespace kad::dht

#endif  // KAD_DHT_RELEASE_IF_SPARSE_H_

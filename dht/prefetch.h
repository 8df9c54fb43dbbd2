// Prefetch: asks the CPU for memory ahead of its use.
//
// A simulation of a million nodes spreads some 15 GB of node state over
// memory, and each datagram lands on a node whose state is nowhere in the
// cache. Its handler then meets the misses one at a time, each waiting for
// the last; asking for the lines up front, before work that does not need
// them (decoding the datagram), lets them arrive together meanwhile. A
// hint only: no effect on behaviour, and harmless on real sockets.
#ifndef KAD_DHT_PREFETCH_H_
#define KAD_DHT_PREFETCH_H_

#include <cstddef>

namespace kad::dht {

// Asks for every cache line of the `size` bytes at `data`.
inline void PrefetchBytes(const void* data, size_t size) {
  constexpr size_t kCacheLine = 64;
  const auto* bytes = static_cast<const char*>(data);
  for (size_t at = 0; at < size; at += kCacheLine) {
    __builtin_prefetch(bytes + at);
  }
}

}  // namespace kad::dht

#endif  // KAD_DHT_PREFETCH_H_

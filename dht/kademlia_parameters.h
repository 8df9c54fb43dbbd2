// Kademlia's system parameters: the defaults and limits every options
// struct (NodeOptions, RoutingTableOptions, LookupOptions...) and every
// flag shares, written once.
#ifndef KAD_DHT_KADEMLIA_PARAMETERS_H_
#define KAD_DHT_KADEMLIA_PARAMETERS_H_

#include "dht/message.h"

namespace kad::dht {

inline constexpr int kDefaultBucketSize = 20;  // Kademlia's k
inline constexpr int kDefaultParallelism = 3;  // Kademlia's alpha

// A response carries at most kMaxContactsPerMessage contacts, so a larger
// k could never be filled by one answer.
inline constexpr int kMaxBucketSize = static_cast<int>(kMaxContactsPerMessage);
// More requests in flight than k would ask nodes outside the k closest.
inline constexpr int kMaxParallelism = kMaxBucketSize;

}  // namespace kad::dht

#endif  // KAD_DHT_KADEMLIA_PARAMETERS_H_

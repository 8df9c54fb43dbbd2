// Kademlia's system parameters: the defaults and limits every options
// struct (NodeOptions, RoutingTableOptions, LookupOptions...) and every
// flag shares, written once.
#ifndef KAD_DHT_KADEMLIA_PARAMETERS_H_
#define KAD_DHT_KADEMLIA_PARAMETERS_H_

#include "absl/time/time.h"
#include "dht/message.h"

namespace kad::dht {

inline constexpr int kDefaultBucketSize = 20;  // Kademlia's k
inline constexpr int kDefaultParallelism = 3;  // Kademlia's alpha

// Per-prefix limits against Sybils (a /24 for IPv4, a /64 for IPv6):
// entries from one prefix in one bucket and in a whole routing table, and
// contacts from one prefix among a lookup's k closest. The brief's target
// is at most 3 of 20 Sybils of one host in a lookup result; 2, as per
// bucket, leaves a put 18 of its k = 20 stores on other hosts.
inline constexpr int kDefaultMaxPerSubnetInBucket = 2;
inline constexpr int kDefaultMaxPerSubnetInTable = 8;
inline constexpr int kDefaultLookupMaxPerSubnet = 2;

// Bounds on one lookup, so no chain of Sybils (or dead contacts) keeps it
// running: requests sent (about 4x a full lookup's 24) and time.
inline constexpr int kDefaultLookupMaxRequests = 100;
inline constexpr absl::Duration kDefaultLookupDeadline = absl::Seconds(30);

// Disjoint lookup paths for get and put (S/Kademlia's d,
// dht/disjoint_lookup.h): the default is chosen from the adversarial
// benchmark (docs/BENCH.md, "Disjoint paths"); at most kMaxDisjointPaths
// (and at most k, so every path starts from a share of the k closest).
inline constexpr int kDefaultDisjointPaths = 2;
inline constexpr int kMaxDisjointPaths = 16;

// A response carries at most kMaxContactsPerMessage contacts, so a larger
// k could never be filled by one answer.
inline constexpr int kMaxBucketSize = static_cast<int>(kMaxContactsPerMessage);
// More requests in flight than k would ask nodes outside the k closest.
inline constexpr int kMaxParallelism = kMaxBucketSize;

}  // namespace kad::dht

#endif  // KAD_DHT_KADEMLIA_PARAMETERS_H_

// OracleJoin: fills every routing table of a simulated overlay from a
// global view of all ids, as a converged Kademlia overlay would have them,
// without sending a datagram.
//
// The protocol join (Node::Bootstrap: a self-lookup plus a refresh of every
// farther bucket) costs a few hundred RPCs per node; at a million simulated
// nodes that is hours of CPU. Benchmarks of lookups at that size start
// instead from the tables a converged overlay holds: for each node and each
// bucket (common prefix length b with its id), up to k ids drawn at random
// from the nodes whose ids share exactly b leading bits with it, and every
// node of its own smallest subtree of at most k + 1 nodes. The lookups then
// run through the real protocol, codec and simulated network. This is the
// "full buckets" static network of the paper's analysis, so results from it
// are a lower bound on what the protocol join reaches; `kad bench` reports
// which join it used.
//
// Deterministic: the draws come from `seed` and the order of `nodes`.
#ifndef KAD_BENCH_ORACLE_JOIN_H_
#define KAD_BENCH_ORACLE_JOIN_H_

#include <cstdint>
#include <span>

#include "absl/functional/function_ref.h"
#include "dht/node.h"

namespace kad::bench {

// Enters, into each node's routing table, the contacts described above
// (Node::AdoptContacts). `bucket_size` is Kademlia's k.
void OracleJoin(std::span<dht::Node* const> nodes, int bucket_size,
                uint64_t seed);
// As above, calling `keep_going(done)` every few thousand nodes with the
// number of tables filled; once it returns false, stops (the remaining
// tables stay as they were). Returns the number of tables filled.
size_t OracleJoin(std::span<dht::Node* const> nodes, int bucket_size,
                  uint64_t seed,
                  absl::FunctionRef<bool(size_t done)> keep_going);

}  // namespace kad::bench

#endif  // KAD_BENCH_ORACLE_JOIN_H_

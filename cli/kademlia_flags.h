// --k and --alpha, as `kad node`, `kad overlay` and `kad bench lookup`
// share them, and --disjoint-paths (`kad node`, `get`, `put`, `bench
// lookup`). Values are checked by dht::ValidateNodeOptions, the one
// place that knows their limits.
#ifndef KAD_CLI_KADEMLIA_FLAGS_H_
#define KAD_CLI_KADEMLIA_FLAGS_H_

#include "CLI/CLI.hpp"

namespace kad::cli {

// Adds --k (Kademlia's k) and --alpha (Kademlia's alpha) to `command`,
// bound to `k` and `alpha`, whose values are the shown defaults.
void AddKademliaFlags(CLI::App& command, int& k, int& alpha);

// Adds --disjoint-paths (S/Kademlia's d for get and put) to `command`,
// bound to `paths`, whose value is the shown default.
void AddDisjointPathsFlag(CLI::App& command, int& paths);

}  // namespace kad::cli

#endif  // KAD_CLI_KADEMLIA_FLAGS_H_

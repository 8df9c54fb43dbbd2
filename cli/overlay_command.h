// `kad overlay`: many real UDP nodes in one process.
//
// Binds --nodes sockets (ports from --listen-base upward, or all OS-chosen
// with port 0), split over --threads event loops, one thread each (default:
// one per core, at most 8). Joins them to each other — the first node
// starts the overlay, each other thread's first node joins through it, and
// every later node bootstraps through a few nodes its thread has already
// joined, `kParallelJoins` at a time per thread — with a progress bar on
// stderr when it is a terminal, then prints "bootstrap <address>" lines on
// stdout (flushed), writes "<id> <address>" for every node to --out if
// asked, and serves until SIGINT or SIGTERM. Nodes on different threads
// share nothing but the network.
//
// Errors (one line, exit 2): more nodes than the file-descriptor limit
// allows; exit 3: a port that cannot be bound.
#ifndef KAD_CLI_OVERLAY_COMMAND_H_
#define KAD_CLI_OVERLAY_COMMAND_H_

#include <string>

#include "dht/kademlia_parameters.h"

namespace kad::cli {

struct OverlayFlags {
  int nodes = 100;
  std::string listen_base = "127.0.0.1:0";  // Port p: nodes get p, p+1, ...
  std::string out;                          // Endpoint list file; "" none.
  int k = dht::kDefaultBucketSize;       // Kademlia's k.
  int alpha = dht::kDefaultParallelism;  // Kademlia's alpha.
  int threads = 0;  // Event loops, one thread each; 0: one per core (max 8).
  std::string log_level = "warn";
};

int RunOverlay(const OverlayFlags& flags);

}  // namespace kad::cli

#endif  // KAD_CLI_OVERLAY_COMMAND_H_

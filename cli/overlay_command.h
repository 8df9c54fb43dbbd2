// `kad overlay`: many real UDP nodes in one process, on one event loop.
//
// Binds --nodes sockets (ports from --listen-base upward, or all OS-chosen
// with port 0), joins them to each other — the first starts the overlay,
// every later one bootstraps through a few nodes that have already joined,
// `kParallelJoins` at a time — with a progress bar on stderr when it is a
// terminal, then prints "bootstrap <address>" lines on stdout (flushed),
// writes "<id> <address>" for every node to --out if asked, and serves
// until SIGINT or SIGTERM.
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
  std::string log_level = "warn";
};

int RunOverlay(const OverlayFlags& flags);

}  // namespace kad::cli

#endif  // KAD_CLI_OVERLAY_COMMAND_H_

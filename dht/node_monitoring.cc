// Node's read-only views for local monitoring (StatsSnapshot,
// lookup_latency). Beside node.cc rather than in it: they only read
// Impl's members, and keep node.cc to the node's behaviour.
#include "dht/node.h"
#include "dht/node_impl.h"

namespace kad::dht {

StatsReply Node::StatsSnapshot() const {
  return impl_->stats_service().Snapshot(impl_->clock().Now());
}

const LatencyWindow& Node::lookup_latency() const {
  return impl_->lookup_latency();
}

}  // namespace kad::dht

// Prometheus metrics of one node: a snapshot of its counters taken on the
// loop thread, and the text exposition format (version 0.0.4) of it, which
// `kad node --metrics` serves at GET /metrics and an embedder can serve
// from its own HTTP server.
//
// The numbers are the ones `kad stats` reports (dht::StatsService's
// snapshot, Node::StatsSnapshot) plus the NodeStats counters the stats
// message does not carry, and a cumulative histogram of lookup durations
// (dht/latency_histogram.h). Every name starts with `kad_`; counters end in
// `_total`; message counters have a `type` label (ping, find_node...,
// dht::MessageTypeName). README.md ("Metrics") lists them all.
//
// Threading: TakeMetricsSnapshot reads the node, so it runs on the node's
// loop thread; the snapshot is plain data that may then be handed to, and
// formatted on, any thread (FormatPrometheus is pure).
#ifndef KAD_RUNTIME_PROMETHEUS_METRICS_H_
#define KAD_RUNTIME_PROMETHEUS_METRICS_H_

#include <string>

#include "dht/latency_histogram.h"
#include "dht/message.h"
#include "dht/node.h"
#include "dht/node_stats.h"

namespace kad::runtime {

// The Content-Type of FormatPrometheus's output.
inline constexpr char kPrometheusContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// One node's numbers at one moment; plain data.
struct MetricsSnapshot {
  std::string node_id;                  // 40 hex digits.
  dht::StatsReply stats;                // As `kad stats` reports them.
  dht::NodeStats counters;              // Every counter, some not in `stats`.
  dht::LatencyBuckets lookup_duration;  // Since the node started.
};

// Reads `node`'s counters now. Call on the node's loop thread.
MetricsSnapshot TakeMetricsSnapshot(const dht::Node& node);

// Returns `snapshot` in the Prometheus text exposition format: for each
// metric a `# HELP` and a `# TYPE` line, then its samples; lines end in
// '\n'. Metrics appear in a fixed order, so equal snapshots format alike.
std::string FormatPrometheus(const MetricsSnapshot& snapshot);

}  // namespace kad::runtime

#endif  // KAD_RUNTIME_PROMETHEUS_METRICS_H_

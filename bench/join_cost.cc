// kad_join_cost: what a simulated node costs — heap bytes per node once an
// overlay has bootstrapped and after a few lookups, and the datagrams one
// join costs the whole overlay, by message type.
//
// Run: build/bench/kad_join_cost [nodes=2000] [joins=50] [seed=1]
//
// Heap figures are mallinfo2() deltas (in-use bytes plus mmapped blocks),
// so they include the allocator's per-chunk overhead and the simulator's
// own per-host state (about 80 bytes). Figures only: nothing is asserted.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/sim_overlay.h"
#include "dht/message.h"
#include "dht/routing_table.h"

namespace {

using kad::bench::SimOverlay;

size_t HeapInUse() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Sums every node's counters.
kad::dht::NodeStats Totals(SimOverlay& overlay) {
  kad::dht::NodeStats total;
  for (size_t i = 0; i < overlay.size(); ++i) {
    const kad::dht::NodeStats& s = overlay.node(i).stats();
    total.datagrams_out += s.datagrams_out;
    total.bytes_out += s.bytes_out;
    total.rpc_failures += s.rpc_failures;
    total.lookups_finished += s.lookups_finished;
    for (size_t t = 0; t < kad::dht::kMessageTypeCount; ++t) {
      total.messages_out[t] += s.messages_out[t];
    }
  }
  return total;
}

// Lets every lookup, probe and refresh that is still running finish (a
// lookup takes a second or so of virtual time; a lost request at most
// three 2 s timeouts).
void Settle(SimOverlay& overlay) {
  overlay.clock().RunUntil(overlay.clock().Now() + absl::Seconds(10));
}

}  // namespace

int main(int argc, char** argv) {
  const size_t nodes = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
  const int joins = argc > 2 ? std::atoi(argv[2]) : 50;
  kad::bench::SimOverlayOptions options;
  options.seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  SimOverlay overlay(options);

  const size_t heap_start = HeapInUse();
  const int failures = overlay.GrowTo(nodes);
  Settle(overlay);
  const size_t heap_grown = HeapInUse();
  size_t table_entries = 0, smallest = SIZE_MAX;
  for (size_t i = 0; i < overlay.size(); ++i) {
    const size_t size = overlay.node(i).routing_table().size();
    table_entries += size;
    smallest = std::min(smallest, size);
  }
  std::printf("nodes %zu  failed joins %d  table entries: mean %.1f min %zu\n",
              nodes, failures, double(table_entries) / nodes, smallest);
  std::printf("heap per node after bootstrap: %zu bytes\n",
              (heap_grown - heap_start) / nodes);

  // Three lookups of random ids from every node.
  std::mt19937_64 gen(options.seed);
  for (int round = 0; round < 3; ++round) {
    int outstanding = 0;
    for (size_t i = 0; i < overlay.size(); ++i) {
      ++outstanding;
      overlay.node(i).FindNode(kad::dht::NodeId::Random(gen),
                               [&](auto) { --outstanding; });
    }
    overlay.clock().RunWhile([&] { return outstanding > 0; },
                             overlay.clock().Now() + absl::Minutes(10));
  }
  Settle(overlay);
  std::printf("heap per node after 3 lookups each: %zu bytes\n",
              (HeapInUse() - heap_start) / nodes);

  // Joins one at a time, each into a settled overlay.
  const absl::Time joins_start = overlay.clock().Now();
  const kad::dht::NodeStats before = Totals(overlay);
  const uint64_t sent_before = overlay.network().stats().datagrams_sent;
  uint64_t joiner_out = 0;
  size_t joiner_entries = 0;
  for (int j = 0; j < joins; ++j) {
    const kad::net::Endpoint seed =
        overlay.node(overlay.RandomIndex()).endpoint();
    kad::dht::Node& joiner = overlay.AddNode();
    auto joined = overlay.Run<int>(
        [&](auto done) { joiner.Bootstrap({seed}, std::move(done)); });
    if (!joined.ok())
      std::printf("join %d: %s\n", j, joined.status().ToString().c_str());
    Settle(overlay);
    joiner_out += joiner.stats().datagrams_out;
    joiner_entries += joiner.routing_table().size();
  }
  const kad::dht::NodeStats after = Totals(overlay);
  const uint64_t sent = overlay.network().stats().datagrams_sent - sent_before;
  std::printf(
      "per join: %.1f datagrams (%.1f sent by the joiner), "
      "joiner table %.1f entries, %.1f lookups\n",
      double(sent) / joins, double(joiner_out) / joins,
      double(joiner_entries) / joins,
      double(after.lookups_finished - before.lookups_finished) / joins);
  std::string by_type;
  for (size_t t = 0; t < kad::dht::kMessageTypeCount; ++t) {
    const uint64_t n = after.messages_out[t] - before.messages_out[t];
    if (n == 0) continue;
    absl::StrAppend(
        &by_type, " ",
        kad::dht::MessageTypeName(static_cast<kad::dht::MessageType>(t)), " ",
        absl::StrFormat("%.1f", double(n) / joins));
  }
  std::printf("per join by type:%s\n", by_type.c_str());
  // Hourly bucket refreshes would be counted as join traffic.
  const absl::Time first_refresh =
      overlay.clock().start() + options.node.bucket_refresh_interval;
  if (overlay.clock().Now() >= first_refresh) {
    std::printf(
        "warning: joins ran past the first hourly refresh (%s to %s "
        "of virtual time); use fewer joins\n",
        absl::FormatDuration(joins_start - overlay.clock().start()).c_str(),
        absl::FormatDuration(overlay.clock().Now() - overlay.clock().start())
            .c_str());
  }
  return 0;
}

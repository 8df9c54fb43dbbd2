// Micro-benchmarks of the per-datagram hot paths: encoding and decoding
// messages, and answering find_node from a full routing table.
#include <benchmark/benchmark.h>

#include <random>

#include "dht/routing_table.h"
#include "dht/wire_codec.h"

namespace kad::dht {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

Message NodesReply(std::mt19937_64& gen) {
  Nodes nodes;
  for (int i = 0; i < 20; ++i) {
    nodes.closest.push_back(
        {NodeId::Random(gen),
         net::Endpoint::Ipv4({10, 0, static_cast<uint8_t>(i), 1}, 4222)});
  }
  nodes.token = "12345678";
  return Message{42, NodeId::Random(gen), nodes};
}

void BM_EncodeNodes(benchmark::State& state) {
  std::mt19937_64 gen(1);
  Message message = NodesReply(gen);
  for (auto _ : state) {
    benchmark::DoNotOptimize(EncodeMessage(message, kNow));
  }
}
BENCHMARK(BM_EncodeNodes);

void BM_DecodeNodes(benchmark::State& state) {
  std::mt19937_64 gen(1);
  std::vector<uint8_t> bytes = *EncodeMessage(NodesReply(gen), kNow);
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeMessage(bytes, kNow));
  }
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_DecodeNodes);

void BM_DecodePing(benchmark::State& state) {
  std::mt19937_64 gen(1);
  std::vector<uint8_t> bytes =
      *EncodeMessage(Message{7, NodeId::Random(gen), Ping{}}, kNow);
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeMessage(bytes, kNow));
  }
}
BENCHMARK(BM_DecodePing);

void BM_RoutingTableClosest(benchmark::State& state) {
  std::mt19937_64 gen(2);
  RoutingTable table(NodeId::Random(gen), {}, kNow);
  // Offer many random contacts; the table keeps what fits (~a full table).
  for (int i = 0; i < state.range(0); ++i) {
    uint32_t host = static_cast<uint32_t>(i) * 2654435761u;  // Spread /24s.
    table.OnResponse(
        {NodeId::Random(gen),
         net::Endpoint::Ipv4({static_cast<uint8_t>(host >> 24),
                              static_cast<uint8_t>(host >> 16),
                              static_cast<uint8_t>(host >> 8),
                              static_cast<uint8_t>(host)},
                             4222)},
        kNow);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Closest(NodeId::Random(gen), 20));
  }
  state.counters["contacts"] = static_cast<double>(table.size());
}
BENCHMARK(BM_RoutingTableClosest)->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace kad::dht

BENCHMARK_MAIN();

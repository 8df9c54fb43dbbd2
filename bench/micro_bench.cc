// Micro-benchmarks of the per-datagram hot paths: encoding and decoding
// messages, answering find_node from a full routing table, admitting a
// request (AdmissionControl) or budgeting its reply (ReplyBudget), and what
// a signed record costs: signing, verifying, and a whole verified store
// (decode the datagram, verify, check against the version held, store).
#include <benchmark/benchmark.h>

#include <random>

#include "dht/admission_control.h"
#include "dht/reply_budget.h"
#include "dht/record_auth.h"
#include "dht/routing_table.h"
#include "storage/memory_store.h"
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

// The n-th of many IPv4 addresses, each in its own /24 (n < 2^24).
net::Endpoint SourceInOwnSlash24(uint32_t n) {
  return net::Endpoint::Ipv4(
      {static_cast<uint8_t>(11 + (n >> 16)), static_cast<uint8_t>(n >> 8),
       static_cast<uint8_t>(n), 1},
      4222);
}

// An admitted request from one of `range(0)` known sources, round robin,
// each well within its limits (the common case on a busy node).
void BM_AdmissionAdmit(benchmark::State& state) {
  AdmissionOptions options;
  options.global.reset();
  AdmissionControl admission(options);
  std::vector<net::Endpoint> sources;
  for (uint32_t n = 0; n < state.range(0); ++n) {
    sources.push_back(SourceInOwnSlash24(n));
  }
  // Each source asks every 6 ms, within its 200/s.
  absl::Duration step = absl::Milliseconds(6) / state.range(0);
  absl::Time now = kNow;
  size_t i = 0;
  for (auto _ : state) {
    now += step;
    benchmark::DoNotOptimize(admission.Decide(sources[i], now));
    if (++i == sources.size()) i = 0;
  }
  state.counters["dropped"] = static_cast<double>(admission.stats().dropped());
  state.counters["table_bytes"] = static_cast<double>(admission.MemoryBytes());
}
BENCHMARK(BM_AdmissionAdmit)->Arg(1)->Arg(1000)->Arg(100000);

// One source flooding far past its limit: dropped, then banned.
void BM_AdmissionFlooder(benchmark::State& state) {
  AdmissionControl admission;
  net::Endpoint flooder = net::Endpoint::Ipv4({198, 18, 0, 1}, 4222);
  absl::Time now = kNow;
  for (auto _ : state) {
    now += absl::Nanoseconds(100);
    benchmark::DoNotOptimize(admission.Decide(flooder, now));
  }
  state.counters["bans"] = static_cast<double>(admission.stats().bans);
}
BENCHMARK(BM_AdmissionFlooder);

// A forged flood: every request from a new source, 1,000,000/s, with the
// default limits (the global one drops most of them).
void BM_AdmissionForgedFlood(benchmark::State& state) {
  AdmissionControl admission;
  absl::Time now = kNow;
  uint32_t n = 0;
  for (auto _ : state) {
    now += absl::Microseconds(1);
    benchmark::DoNotOptimize(admission.Decide(SourceInOwnSlash24(n), now));
    n = (n + 1) & 0xffffff;
  }
  state.counters["table_bytes"] = static_cast<double>(admission.MemoryBytes());
}
BENCHMARK(BM_AdmissionForgedFlood);

// The table's worst case: every request from a new source, all admitted
// and all live at once, so each one evicts another (only the address
// limit on).
void BM_AdmissionTableChurn(benchmark::State& state) {
  AdmissionOptions options;
  options.per_prefix.reset();
  options.global.reset();
  AdmissionControl admission(options);
  uint32_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(admission.Decide(SourceInOwnSlash24(n), kNow));
    n = (n + 1) & 0xffffff;
  }
  state.counters["table_bytes"] = static_cast<double>(admission.MemoryBytes());
}
BENCHMARK(BM_AdmissionTableChurn);

void BM_AdmissionLoopback(benchmark::State& state) {
  AdmissionControl admission;
  net::Endpoint local = net::Endpoint::Ipv4({127, 0, 0, 1}, 4222);
  for (auto _ : state) {
    benchmark::DoNotOptimize(admission.Decide(local, kNow));
  }
}
BENCHMARK(BM_AdmissionLoopback);

// A find_node reply budgeted for one of `range(0)` destinations.
void BM_ReplyBudgetDecide(benchmark::State& state) {
  ReplyBudget budget;
  std::vector<net::Endpoint> destinations;
  for (uint32_t n = 0; n < state.range(0); ++n) {
    destinations.push_back(SourceInOwnSlash24(n));
  }
  absl::Time now = kNow;
  size_t i = 0;
  for (auto _ : state) {
    now += absl::Microseconds(20);
    benchmark::DoNotOptimize(
        budget.Decide(destinations[i], 60, 719, AddressProof::kProven, now));
    if (++i == destinations.size()) i = 0;
  }
}
BENCHMARK(BM_ReplyBudgetDecide)->Arg(1)->Arg(1000)->Arg(100000);
storage::Record SignedRecord(const KeyPair& owner, uint64_t seq) {
  return *MakeSignedRecord(owner, "alice-key", std::string(100, 'v'), seq,
                           kNow + absl::Hours(1));
}

void BM_SignRecord(benchmark::State& state) {
  const KeyPair owner = GenerateKeyPair();
  uint64_t seq = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(SignedRecord(owner, seq++));
  }
}
BENCHMARK(BM_SignRecord);

void BM_VerifySignedRecord(benchmark::State& state) {
  const storage::Record record = SignedRecord(GenerateKeyPair(), 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifyRecord(record));
  }
}
BENCHMARK(BM_VerifySignedRecord);

void BM_VerifyImmutableRecord(benchmark::State& state) {
  const storage::Record record =
      *MakeImmutableRecord(std::string(1000, 'v'), kNow + absl::Hours(1));
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifyRecord(record));
  }
}
BENCHMARK(BM_VerifyImmutableRecord);

// What a node spends per store datagram of a signed record, all but the
// socket: decode, verify, compare with the held version, store. Each
// iteration stores a new seq of one of 1,000 owners' records.
void BM_DecodeVerifyStoreSigned(benchmark::State& state) {
  std::vector<std::vector<uint8_t>> datagrams;
  for (int i = 0; i < 1000; ++i) {
    const KeyPair owner = GenerateKeyPair();
    for (uint64_t seq = 1; seq <= 8; ++seq) {
      datagrams.push_back(*EncodeMessage(
          Message{1, NodeId(), Store{SignedRecord(owner, seq), "tok"}}, kNow));
    }
  }
  // Owner-major order would store 8 seqs of one record in a row; interleave.
  std::vector<std::vector<uint8_t>> order;
  for (size_t seq = 0; seq < 8; ++seq) {
    for (size_t owner = 0; owner < 1000; ++owner) {
      order.push_back(datagrams[owner * 8 + seq]);
    }
  }
  storage::MemoryStore store;
  size_t next = 0;
  for (auto _ : state) {
    auto message = DecodeMessage(order[next], kNow);
    benchmark::DoNotOptimize(StoreVerified(
        store, std::get<Store>(message->body).record, std::nullopt, kNow));
    if (++next == order.size()) {
      state.PauseTiming();
      next = 0;
      for (const auto& datagram : order) {
        auto old = DecodeMessage(datagram, kNow);
        store.Remove(std::get<Store>(old->body).record.key);
      }
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeVerifyStoreSigned);

}  // namespace
}  // namespace kad::dht

BENCHMARK_MAIN();

// `kad bench lookup`: the lookup benchmark of bench/lookup_bench.h from
// the command line.
//
//   kad bench lookup [--sim | --udp] --nodes N --lookups M [--seed S]
//       [--rtt MODEL] [--loss P] [--churn RATE] [--k K] [--alpha A]
//       [--in-flight F] [--baseline flooding] [--baseline-lookups B]
//       [--huge-pages on|off] [--json | --csv] [--log-level LEVEL]
//
//   kad bench rpc [--requests LIST] [--gates LIST] [--baselines LIST]
//       [--duration D] [--warmup D] [--window W] [--batch B] [--timeout D]
//       [--server-cpu C] [--client-cpu C] [--repeat N] [--json]
//
// Prints a table, or with --json one object (schema: docs/BENCH.md), or
// with --csv a header and one row. A progress bar goes to stderr when it
// is a terminal. SIGINT stops the run early: the lookups done so far are
// reported, marked "interrupted". Exit codes: 0 done (interrupted too),
// 2 usage errors (bad flag, --udp with more nodes than open files allow),
// 3 a failure while running.
#ifndef KAD_CLI_BENCH_COMMAND_H_
#define KAD_CLI_BENCH_COMMAND_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "dht/kademlia_parameters.h"

namespace kad::cli {

struct BenchLookupFlags {
  bool sim = false;                 // The default transport.
  bool udp = false;
  int64_t nodes = 1000;
  int64_t lookups = 1000;
  uint64_t seed = 1;
  std::string join = "auto";  // "auto", "protocol" or "oracle".
  std::string rtt = "lognormal:80ms:0.6";  // net::ParseLinkModel syntax.
  double loss = 0;
  double churn = 0;  // Fraction of nodes replaced over the lookups.
  int k = dht::kDefaultBucketSize;       // Kademlia's k.
  int alpha = dht::kDefaultParallelism;  // Kademlia's alpha.
  int in_flight = 64;
  int sim_threads = 1;  // --sim, protocol join: threads of the simulator.
  std::string baseline;             // "" or "flooding".
  int64_t baseline_lookups = -1;    // -1: min(lookups, 1000).
  double adversary = 0;             // Fraction of malicious nodes.
  std::string attack = "none";      // "none", "drop" or "eclipse".
  std::string sybil_prefix = "shared";  // Eclipse: "shared" or "spread".
  std::string id_binding = "off";  // "off", "bound" or "enforced".
  int disjoint_paths = dht::kDefaultDisjointPaths;  // Of gets and puts.
  std::string huge_pages = "on";  // --sim: restart with a huge-page heap.
  bool json = false;
  bool csv = false;
  std::string log_level = "warn";
  char** argv = nullptr;  // The program's, to restart it (cli/huge_pages.h).
};

struct BenchRpcFlags {
  std::vector<std::string> requests = {"ping", "find_node",
                                       "find_value_absent",
                                       "find_value_present"};
  std::vector<std::string> gates = {"off", "exempt", "raised", "default"};
  std::vector<std::string> baselines = {"raw", "libuv"};  // Or "none".
  std::string duration = "1s";
  std::string warmup = "200ms";
  std::string timeout = "100ms";
  int64_t window = 256;
  int64_t batch = 32;
  int64_t receive_batch = 16;
  int server_cpu = -1;  // -1: not pinned.
  int client_cpu = -1;
  int repeat = 1;
  int64_t value_bytes = 100;
  int64_t contacts = 200;
  bool json = false;
  std::string log_level = "warn";
};

// Adds `bench` with its `lookup` and `rpc` subcommands to `app`. The
// returned runner runs the benchmark that was parsed (returning its exit
// code), or returns -1 if none was.
std::function<int()> AddBenchCommand(CLI::App& app, BenchLookupFlags& flags,
                                     BenchRpcFlags& rpc_flags);

int RunBenchLookup(const BenchLookupFlags& flags);
int RunBenchRpc(const BenchRpcFlags& flags);

}  // namespace kad::cli

#endif  // KAD_CLI_BENCH_COMMAND_H_

// `kad bench lookup`: the lookup benchmark of bench/lookup_bench.h from
// the command line.
//
//   kad bench lookup [--sim | --udp] --nodes N --lookups M [--seed S]
//       [--rtt MODEL] [--loss P] [--churn RATE] [--k K] [--alpha A]
//       [--in-flight F] [--baseline flooding] [--baseline-lookups B]
//       [--json | --csv] [--log-level LEVEL]
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
  std::string baseline;             // "" or "flooding".
  int64_t baseline_lookups = -1;    // -1: min(lookups, 1000).
  double adversary = 0;             // Fraction of malicious nodes.
  std::string attack = "none";      // "none", "drop" or "eclipse".
  std::string sybil_prefix = "shared";  // Eclipse: "shared" or "spread".
  int disjoint_paths = dht::kDefaultDisjointPaths;  // Of gets and puts.
  bool json = false;
  bool csv = false;
  std::string log_level = "warn";
};

// Adds `bench` with its `lookup` subcommand to `app`. The returned runner
// runs the benchmark if it was parsed (returning its exit code), else
// returns -1.
std::function<int()> AddBenchCommand(CLI::App& app, BenchLookupFlags& flags);

int RunBenchLookup(const BenchLookupFlags& flags);

}  // namespace kad::cli

#endif  // KAD_CLI_BENCH_COMMAND_H_

#include "cli/bench_command.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/arena_heaps.h"
#include "bench/lookup_bench.h"
#include "bench/lookup_report.h"
#include "bench/rpc_bench.h"
#include "bench/rpc_report.h"
#include "bench/udp_lookup_bench.h"
#include "cli/arguments.h"
#include "cli/exit_codes.h"
#include "cli/huge_pages.h"
#include "cli/kademlia_flags.h"
#include "cli/logging.h"
#include "cli/output.h"
#include "net/link_model.h"

namespace kad::cli {
namespace {

constexpr absl::Duration kProgressPeriod = absl::Milliseconds(200);

// Set by SIGINT while a benchmark runs. A signal handler can reach only
// a global; nothing else is global here.
std::atomic<bool> interrupted{false};

void OnInterrupt(int) { interrupted.store(true); }

// Installs OnInterrupt for SIGINT for its lifetime.
class InterruptScope {
 public:
  InterruptScope() {
    interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptScope() { sigaction(SIGINT, &previous_, nullptr); }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  struct sigaction previous_ {};
};

// Draws "[####    ] phase done/total  seconds" on stderr at most every
// kProgressPeriod; only when stderr is a terminal.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO) != 0), start_(absl::Now()) {}
  ~ProgressBar() { Finish(); }

  // Ends the bar's line, if one was drawn.
  void Finish() {
    if (drawn_) std::fputs("\n", stderr);
    drawn_ = false;
  }

  void Update(std::string_view phase, size_t done, size_t total) {
    const absl::Time now = absl::Now();
    if (!enabled_ || (now < next_draw_ && done < total)) return;
    next_draw_ = now + kProgressPeriod;
    constexpr size_t kWidth = 30;
    const size_t filled = total == 0 ? kWidth : kWidth * std::min(done, total) / total;
    std::string bar(filled, '#');
    bar.resize(kWidth, ' ');
    std::fprintf(stderr, "\r[%s] %-9s %zu/%zu  %.1f s   ", bar.c_str(),
                 std::string(phase).c_str(), done, total,
                 absl::ToDoubleSeconds(now - start_));
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  absl::Time start_;
  absl::Time next_draw_ = absl::InfinitePast();
};

absl::StatusOr<bench::LookupBenchOptions> ToOptions(
    const BenchLookupFlags& flags) {
  bench::LookupBenchOptions options;
  options.transport =
      flags.udp ? bench::BenchTransport::kUdp : bench::BenchTransport::kSim;
  if (flags.nodes < 2) {
    return absl::InvalidArgumentError("--nodes must be at least 2");
  }
  if (flags.lookups < 0) {
    return absl::InvalidArgumentError("--lookups must not be negative");
  }
  options.nodes = static_cast<size_t>(flags.nodes);
  options.lookups = static_cast<size_t>(flags.lookups);
  options.seed = flags.seed;
  const bool oracle =
      flags.join == "oracle" ||
      (flags.join == "auto" && !flags.udp &&
       options.nodes > bench::kLargestAutoProtocolJoin);
  options.join =
      oracle ? bench::JoinMethod::kOracle : bench::JoinMethod::kProtocol;
  absl::StatusOr<net::LinkModelOptions> link = net::ParseLinkModel(flags.rtt);
  if (!link.ok()) return Annotate(link.status(), "--rtt");
  options.link = *link;
  options.rtt_model = flags.rtt;
  options.loss = flags.loss;
  options.churn = flags.churn;
  options.k = flags.k;
  options.alpha = flags.alpha;
  options.disjoint_paths = flags.disjoint_paths;
  options.in_flight = flags.in_flight;
  options.sim_threads = static_cast<size_t>(flags.sim_threads);
  options.baseline_flooding = flags.baseline == "flooding";
  options.baseline_lookups =
      flags.baseline_lookups >= 0
          ? static_cast<size_t>(flags.baseline_lookups)
          : std::min<size_t>(options.lookups, 1000);
  options.adversary = flags.adversary;
  absl::StatusOr<bench::AttackMode> attack =
      bench::ParseAttackMode(flags.attack);
  if (!attack.ok()) return Annotate(attack.status(), "--attack");
  options.attack = *attack;
  options.sybils_share_prefix = flags.sybil_prefix == "shared";
  absl::StatusOr<bench::LookupBenchOptions::IdBinding> binding =
      bench::ParseIdBinding(flags.id_binding);
  if (!binding.ok()) return Annotate(binding.status(), "--id-binding");
  options.id_binding = *binding;
  if (absl::Status valid = bench::ValidateLookupBench(options); !valid.ok()) {
    return valid;
  }
  return options;
}

void Print(const bench::LookupBenchReport& report,
           const BenchLookupFlags& flags) {
  std::string text;
  if (flags.json) {
    nlohmann::ordered_json out = bench::ReportJson(report);
    out["heap_huge_pages"] = HeapOnHugePages();
    text = out.dump() + "\n";
  } else if (flags.csv) {
    text = bench::ReportCsv(report);
  } else {
    text = bench::ReportTable(report);
  }
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

void AddLookupFlags(CLI::App& lookup, BenchLookupFlags& flags) {
  CLI::Option* sim = lookup.add_flag(
      "--sim", flags.sim, "simulated nodes in virtual time (the default)");
  lookup.add_flag("--udp", flags.udp,
                  "real UDP nodes on 127.0.0.1 in this process")
      ->excludes(sim);
  lookup.add_option("--nodes", flags.nodes, "overlay size (at least 2)")
      ->check(CLI::Range(int64_t{2}, int64_t{10'000'000}))
      ->capture_default_str();
  lookup.add_option("--lookups", flags.lookups,
                    "measured lookups, half find_node, half get")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  lookup.add_option("--seed", flags.seed, "seed of everything random")
      ->capture_default_str();
  lookup
      .add_option("--join", flags.join,
                  absl::StrCat("how simulated tables are filled: protocol "
                               "(every node bootstraps), oracle (from a "
                               "global view, nothing sent), auto (protocol "
                               "up to ",
                               bench::kLargestAutoProtocolJoin, " nodes)"))
      ->check(CLI::IsMember({"auto", "protocol", "oracle"}))
      ->capture_default_str();
  lookup.add_option("--rtt", flags.rtt,
                    "RTT model: constant:50ms, uniform:20ms:200ms, "
                    "lognormal[:MEDIAN[:SIGMA]]")
      ->type_name("MODEL")
      ->capture_default_str();
  lookup.add_option("--loss", flags.loss, "datagram loss probability [0, 1)")
      ->check(CLI::Range(0.0, 0.999999))
      ->capture_default_str();
  lookup.add_option("--churn", flags.churn,
                    "fraction of nodes replaced over the lookups [0, 1]")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  AddKademliaFlags(lookup, flags.k, flags.alpha);
  AddDisjointPathsFlag(lookup, flags.disjoint_paths);
  lookup.add_option("--in-flight", flags.in_flight,
                    "lookups running at once (1-4096)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  lookup.add_option("--sim-threads", flags.sim_threads,
                    "simulator: threads the protocol join runs on (1-64); "
                    "each value gives its own reproducible run")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  lookup.add_option("--baseline", flags.baseline,
                    "also run the searches by flooding an unstructured overlay")
      ->check(CLI::IsMember({"flooding"}));
  lookup.add_option("--baseline-lookups", flags.baseline_lookups,
                    "flooding searches (default: min(lookups, 1000))")
      ->check(CLI::NonNegativeNumber);
  lookup.add_option("--adversary", flags.adversary,
                    "fraction of simulated nodes that are malicious [0, 1)")
      ->check(CLI::Range(0.0, 0.999999))
      ->capture_default_str();
  lookup.add_option("--attack", flags.attack,
                    "what the malicious nodes do: drop (answer finds with "
                    "one another only, drop stores) or eclipse (drop, with "
                    "ids next to the keys read)")
      ->check(CLI::IsMember({"none", "drop", "eclipse"}))
      ->capture_default_str();
  lookup.add_option("--sybil-prefix", flags.sybil_prefix,
                    "eclipse: Sybils share one /64 (shared) or sit on "
                    "distinct hosts (spread)")
      ->check(CLI::IsMember({"shared", "spread"}))
      ->capture_default_str();
  lookup.add_option("--id-binding", flags.id_binding,
                    "simulator: bind ids to the simulated hosts' addresses, "
                    "treated as verifiable: off, bound (verified contacts "
                    "preferred) or enforced (unbound ids refused; eclipse "
                    "Sybils take the best bound ids they can)")
      ->check(CLI::IsMember({"off", "bound", "enforced"}))
      ->capture_default_str();
  lookup.add_option("--huge-pages", flags.huge_pages,
                    "simulator: start again with malloc on transparent huge "
                    "pages (glibc.malloc.hugetlb=1; faster at 100,000 nodes "
                    "and up), or off")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  CLI::Option* json =
      lookup.add_flag("--json", flags.json, "print one JSON object");
  lookup.add_flag("--csv", flags.csv, "print a CSV header and row")
      ->excludes(json);
  lookup.add_option("--log-level", flags.log_level,
                    "log level on stderr: trace|debug|info|warn|error")
      ->check(CLI::IsMember(
          std::vector<std::string>(std::begin(kLogLevels), std::end(kLogLevels))))
      ->capture_default_str();
}

void AddRpcFlags(CLI::App& rpc, BenchRpcFlags& flags) {
  rpc.add_option("--requests", flags.requests,
                 "request kinds sent to the node: ping, find_node, "
                 "find_value_absent, find_value_present (comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember({"ping", "find_node", "find_value_absent",
                             "find_value_present"}))
      ->capture_default_str();
  rpc.add_option("--gates", flags.gates,
                 "node settings measured: off (no admission control or "
                 "reply budget), exempt (defaults; loopback exempt), raised "
                 "(loopback counted, limits raised), default (loopback "
                 "counted, default limits: one flooding source)")
      ->delimiter(',')
      ->check(CLI::IsMember({"off", "exempt", "raised", "default"}))
      ->capture_default_str();
  rpc.add_option("--baselines", flags.baselines,
                 "echo servers measured with pings: raw (recvmmsg/sendmmsg), "
                 "libuv (uv_udp with recvmmsg), or none")
      ->delimiter(',')
      ->check(CLI::IsMember({"raw", "libuv", "none"}))
      ->capture_default_str();
  rpc.add_option("--duration", flags.duration, "measured time per phase")
      ->type_name("DURATION")
      ->capture_default_str();
  rpc.add_option("--warmup", flags.warmup,
                 "load before measuring, per phase (0: none)")
      ->type_name("DURATION")
      ->capture_default_str();
  rpc.add_option("--timeout", flags.timeout,
                 "a request unanswered this long is given up")
      ->type_name("DURATION")
      ->capture_default_str();
  rpc.add_option("--window", flags.window, "requests outstanding (1-4096)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  rpc.add_option("--batch", flags.batch,
                 "client datagrams per sendmmsg/recvmmsg (1-1024)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  rpc.add_option("--receive-batch", flags.receive_batch,
                 "servers' datagrams per recvmmsg (1-20)")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  rpc.add_option("--server-cpu", flags.server_cpu,
                 "pin the server thread to this CPU (-1: not pinned)")
      ->capture_default_str();
  rpc.add_option("--client-cpu", flags.client_cpu,
                 "pin the load generator to this CPU (-1: not pinned)")
      ->capture_default_str();
  rpc.add_option("--repeat", flags.repeat,
                 "rounds over every target; medians are reported")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  rpc.add_option("--value-bytes", flags.value_bytes,
                 "value size of the record find_value_present reads")
      ->check(CLI::Range(int64_t{0}, int64_t{1000}))
      ->capture_default_str();
  rpc.add_option("--contacts", flags.contacts,
                 "made-up contacts in the node's routing table")
      ->check(CLI::Range(int64_t{0}, int64_t{100'000}))
      ->capture_default_str();
  rpc.add_flag("--json", flags.json, "print one JSON object");
  rpc.add_option("--log-level", flags.log_level,
                 "log level on stderr: trace|debug|info|warn|error")
      ->check(CLI::IsMember(
          std::vector<std::string>(std::begin(kLogLevels), std::end(kLogLevels))))
      ->capture_default_str();
}

absl::StatusOr<bench::RpcBenchOptions> ToRpcOptions(
    const BenchRpcFlags& flags) {
  bench::RpcBenchOptions options;
  options.requests.clear();
  for (const std::string& name : flags.requests) {
    absl::StatusOr<bench::RpcRequest> request = bench::ParseRpcRequest(name);
    if (!request.ok()) return Annotate(request.status(), "--requests");
    options.requests.push_back(*request);
  }
  options.gates.clear();
  for (const std::string& name : flags.gates) {
    absl::StatusOr<bench::RpcGate> gate = bench::ParseRpcGate(name);
    if (!gate.ok()) return Annotate(gate.status(), "--gates");
    options.gates.push_back(*gate);
  }
  auto has = [&](std::string_view name) {
    return std::find(flags.baselines.begin(), flags.baselines.end(), name) !=
           flags.baselines.end();
  };
  options.raw_echo = has("raw");
  options.libuv_echo = has("libuv");
  const std::pair<const char*, const std::string*> durations[] = {
      {"--duration", &flags.duration},
      {"--warmup", &flags.warmup},
      {"--timeout", &flags.timeout}};
  absl::Duration* fields[] = {&options.load.duration, &options.load.warmup,
                              &options.load.timeout};
  for (size_t i = 0; i < std::size(durations); ++i) {
    if (fields[i] == &options.load.warmup && flags.warmup == "0") {
      options.load.warmup = absl::ZeroDuration();  // No warm-up.
      continue;
    }
    absl::StatusOr<absl::Duration> d =
        ParseDurationArg(durations[i].first, *durations[i].second);
    if (!d.ok()) return d.status();
    *fields[i] = *d;
  }
  options.load.window = static_cast<size_t>(flags.window);
  options.load.batch = static_cast<size_t>(flags.batch);
  options.receive_batch = static_cast<size_t>(flags.receive_batch);
  options.server_cpu = flags.server_cpu;
  options.client_cpu = flags.client_cpu;
  options.repeat = flags.repeat;
  options.value_bytes = static_cast<size_t>(flags.value_bytes);
  options.contacts = static_cast<size_t>(flags.contacts);
  if (absl::Status valid = bench::ValidateRpcBench(options); !valid.ok()) {
    return valid;
  }
  return options;
}

}  // namespace

std::function<int()> AddBenchCommand(CLI::App& app, BenchLookupFlags& flags,
                                     BenchRpcFlags& rpc_flags) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks");
  bench->require_subcommand(1);
  CLI::App* lookup = bench->add_subcommand(
      "lookup", "lookup latency, hops and messages over an overlay of N nodes");
  AddLookupFlags(*lookup, flags);
  CLI::App* rpc = bench->add_subcommand(
      "rpc",
      "one node's request throughput over UDP on 127.0.0.1, against echo "
      "baselines");
  AddRpcFlags(*rpc, rpc_flags);
  return [lookup, rpc, &flags, &rpc_flags] {
    if (lookup->parsed()) return RunBenchLookup(flags);
    if (rpc->parsed()) return RunBenchRpc(rpc_flags);
    return -1;
  };
}

int RunBenchRpc(const BenchRpcFlags& flags) {
  SetLogLevel(flags.log_level);
  absl::StatusOr<bench::RpcBenchOptions> options = ToRpcOptions(flags);
  if (!options.ok()) return ReportFailure(options.status());
  InterruptScope interrupt;
  absl::StatusOr<bench::RpcBenchReport> report =
      bench::RunRpcBench(*options, &interrupted);
  if (!report.ok()) return ReportFailure(report.status());
  std::string text = flags.json ? bench::RpcReportJson(*report).dump() + "\n"
                                : bench::RpcReportTable(*report);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

int RunBenchLookup(const BenchLookupFlags& flags) {
  SetLogLevel(flags.log_level);
  if (!flags.udp && flags.huge_pages == "on" && flags.argv != nullptr) {
    RestartWithHugePageHeap(flags.argv);  // Returns only if it did not.
  }
  absl::StatusOr<bench::LookupBenchOptions> options = ToOptions(flags);
  if (!options.ok()) return ReportFailure(options.status());
  InterruptScope interrupt;
  ProgressBar bar;
  // The heaps of the simulator's other threads on huge pages as well as
  // the main one's (bench/arena_heaps.h), tended between events; one
  // thread has no other heaps to tend.
  bench::ArenaHeaps arena_heaps;
  const bool huge_arenas =
      !flags.udp && flags.sim_threads > 1 && HeapOnHugePages();
  bench::BenchHooks hooks;
  hooks.stop = &interrupted;
  hooks.progress = [&](std::string_view phase, size_t done, size_t total) {
    bar.Update(phase, done, total);
    if (huge_arenas) arena_heaps.Tend();
  };
  absl::StatusOr<bench::LookupBenchReport> report =
      flags.udp ? bench::RunUdpLookupBench(*options, hooks)
                : bench::RunSimLookupBench(*options, hooks);
  if (!report.ok()) return ReportFailure(report.status());
  bar.Finish();
  Print(*report, flags);
  return kExitOk;
}

}  // namespace kad::cli

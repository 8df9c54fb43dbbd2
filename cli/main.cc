// kad: the command-line program. Defines the subcommands and their flags
// with CLI11 and dispatches to node_command.h and client_commands.h.
//
//   kad node   [--listen HOST:PORT] [--bootstrap HOST:PORT]... [--id HEX]
//              [--data-dir DIR] [--stats-allow CIDR]...
//              [--prefix-limit-exempt CIDR|private]...
//              [--replicate-interval 1h] [--republish-interval 1h]
//              [--handoff-delay 10s] [--commit-batch 256]
//              [--commit-delay 10ms]
//              [--k 20] [--alpha 3] [--disjoint-paths D] [--log-level LEVEL]
//   kad keygen [--key FILE] [--force]
//   kad put    NAME [VALUE | --file PATH | -] [--ttl DURATION] [--seq N]
//              [--cas N] [--key FILE] [--open]
//   kad put    --immutable [VALUE | --file PATH | -] [--ttl DURATION]
//   kad get    NAME [--owner HEX] [--key FILE] | ADDRESS | --hash HEX
//   kad get    --open NAME
//   (put and get also take --disjoint-paths D)
//   kad overlay --nodes N [--listen-base HOST:PORT] [--out FILE] [--threads T]
//   kad ping   HOST:PORT
//   kad lookup KEY | --id HEX
//   kad stats  HOST:PORT
//   kad bench lookup [--sim | --udp] --nodes N --lookups M ... (bench_command.h)
//   kad bench rpc [--requests LIST] [--gates LIST] ... (bench_command.h)
//
// One-shot commands also take --bootstrap (or $KAD_BOOTSTRAP; not ping or
// stats), --timeout, --json and --log-level. Exit codes: see exit_codes.h;
// a CLI11 parse error is a usage error (2).
#include <functional>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "cli/bench_command.h"
#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/kademlia_flags.h"
#include "cli/logging.h"
#include "cli/node_command.h"
#include "cli/overlay_command.h"

namespace kad::cli {
namespace {

using Runner = std::function<int()>;

void AddLogLevel(CLI::App& command, std::string& level) {
  command
      .add_option("--log-level", level,
                  "log level on stderr: trace|debug|info|warn|error")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(kLogLevels),
                                                     std::end(kLogLevels))))
      ->capture_default_str();
}

void AddBootstrap(CLI::App& command, std::vector<std::string>& bootstrap,
                  const std::string& help) {
  command.add_option("--bootstrap", bootstrap, help)
      ->type_name("HOST:PORT")
      ->allow_extra_args(false);
}

void AddClientFlags(CLI::App& command, ClientFlags& flags,
                    bool with_bootstrap) {
  if (with_bootstrap) {
    AddBootstrap(command, flags.bootstrap,
                 "node to join through (repeatable; default: $KAD_BOOTSTRAP, "
                 "comma-separated)");
  }
  command
      .add_option("--timeout", flags.timeout,
                  "bound on the whole command, e.g. 10s, 2m (number: seconds)")
      ->type_name("DURATION")
      ->capture_default_str();
  command.add_flag("--json", flags.json, "print one JSON object on stdout");
  AddLogLevel(command, flags.log_level);
}

Runner AddNode(CLI::App& app, NodeFlags& flags) {
  CLI::App* command = app.add_subcommand("node", "run a long-lived node");
  command->add_option("--listen", flags.listen, "address to serve on")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  AddBootstrap(*command, flags.bootstrap,
               "node to join through (repeatable); none starts an overlay");
  command->add_option("--id", flags.id, "node id (default: random)")
      ->type_name("HEX");
  command
      ->add_option("--data-dir", flags.data_dir,
                   "keep records, id and contacts here across restarts "
                   "(default: in memory)")
      ->type_name("DIR");
  command
      ->add_option("--stats-allow", flags.stats_allow,
                   "subnet whose hosts may ask for this node's stats, besides "
                   "loopback (repeatable)")
      ->type_name("CIDR")
      ->allow_extra_args(false);
  command
      ->add_option("--prefix-limit-exempt", flags.prefix_limit_exempt,
                   "subnet, or 'private', whose hosts are distinct enough to "
                   "escape the per-/24 (/64) limits, besides loopback "
                   "(repeatable)")
      ->type_name("CIDR")
      ->allow_extra_args(false);
  command
      ->add_option("--replicate-interval", flags.replicate_interval,
                   "how often to re-offer held records to the k closest "
                   "nodes, or off")
      ->type_name("DURATION")
      ->capture_default_str();
  command
      ->add_option("--republish-interval", flags.republish_interval,
                   "how often to re-put the records this node put, or off")
      ->type_name("DURATION")
      ->capture_default_str();
  command
      ->add_option("--handoff-delay", flags.handoff_delay,
                   "delay before offering records to a newly met close "
                   "node, or off")
      ->type_name("DURATION")
      ->capture_default_str();
  command
      ->add_option("--rate-limit", flags.rate_limit,
                   "requests served per second from one source address "
                   "(bursts of 5 s worth), or off; loopback is exempt")
      ->type_name("N/s")
      ->capture_default_str();
  command
      ->add_option("--rate-limit-global", flags.rate_limit_global,
                   "requests served per second from all sources, or off")
      ->type_name("N/s")
      ->capture_default_str();
  command
      ->add_option("--reply-budget", flags.reply_budget,
                   "reply bytes per second to one destination address, or "
                   "off; loopback is exempt")
      ->type_name("BYTES/s")
      ->capture_default_str();
  command->add_flag("--enforce-id-binding", flags.enforce_id_binding,
                    "refuse contacts whose id is not bound to their public "
                    "address (default: off; prefer them only)");
  command
      ->add_option("--max-records", flags.max_records,
                   "most records the node holds")
      ->type_name("N")
      ->capture_default_str();
  command
      ->add_option("--max-record-bytes", flags.max_record_bytes,
                   "most bytes of records the node holds")
      ->type_name("BYTES")
      ->capture_default_str();
  command
      ->add_option("--store-admission", flags.store_admission,
                   "on: one /24 or /64 may fill at most a quarter of the "
                   "store, and new keys are taken only if this node is among "
                   "their closest; off: whatever proves itself, until full")
      ->type_name("on|off")
      ->capture_default_str();
  command
      ->add_option("--commit-batch", flags.commit_batch,
                   "with --data-dir: most stores committed (and fsynced) "
                   "together")
      ->type_name("N")
      ->capture_default_str();
  command
      ->add_option("--commit-delay", flags.commit_delay,
                   "with --data-dir: the longest stores gather before their "
                   "commit while more keep coming, or 0")
      ->type_name("DURATION")
      ->capture_default_str();
  command
      ->add_option("--metrics", flags.metrics,
                   "serve Prometheus metrics at http://HOST:PORT/metrics; a "
                   "bare PORT means 127.0.0.1:PORT (default: off)")
      ->type_name("HOST:PORT");
  AddKademliaFlags(*command, flags.k, flags.alpha);
  AddDisjointPathsFlag(*command, flags.disjoint_paths);
  AddLogLevel(*command, flags.log_level);
  return [command, &flags] { return command->parsed() ? RunNode(flags) : -1; };
}

Runner AddOverlay(CLI::App& app, OverlayFlags& flags) {
  CLI::App* command = app.add_subcommand(
      "overlay", "run many nodes in one process, joined to each other");
  command->add_option("--nodes", flags.nodes, "how many nodes")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  command
      ->add_option("--listen-base", flags.listen_base,
                   "first node's address; port 0: the OS picks every port")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  command->add_option("--out", flags.out,
                      "write '<id> <address>' for every node to this file")
      ->type_name("FILE");
  command
      ->add_option("--threads", flags.threads,
                   "event loops, one thread each; 0: one per core (at most 8)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  AddKademliaFlags(*command, flags.k, flags.alpha);
  AddLogLevel(*command, flags.log_level);
  return
      [command, &flags] { return command->parsed() ? RunOverlay(flags) : -1; };
}

// --key FILE, shared by keygen, put and get.
void AddKeyFile(CLI::App& command, std::string& key_file) {
  command
      .add_option("--key", key_file,
                  "the signing key file (default: $KAD_KEY, else "
                  "~/.config/kad/key)")
      ->type_name("FILE");
}

Runner AddKeygen(CLI::App& app, KeygenFlags& flags) {
  CLI::App* command = app.add_subcommand(
      "keygen", "write a new key for signing records; prints its public key");
  AddKeyFile(*command, flags.key_file);
  command->add_flag("--force", flags.force, "replace an existing key file");
  return
      [command, &flags] { return command->parsed() ? RunKeygen(flags) : -1; };
}

Runner AddPut(CLI::App& app, PutFlags& flags) {
  CLI::App* command = app.add_subcommand(
      "put",
      "store a value: signed by your key under NAME (default), "
      "--immutable (addressed by its hash) or --open (anyone may replace it)");
  command->add_option("NAME", flags.key,
                      "the record's name (with --immutable: the VALUE)");
  CLI::Option* open = command->add_flag(
      "--open", flags.kind.open,
      "an open record, as before signing: anyone may replace this record");
  command
      ->add_flag("--immutable", flags.kind.immutable,
                 "an immutable record, addressed by the hash of its value")
      ->excludes(open);
  command->add_option("--cas", flags.cas,
                      "store only if the seq held is N (compare-and-swap)")
      ->type_name("N");
  AddKeyFile(*command, flags.kind.key_file);
  CLI::Option* value = command->add_option(
      "VALUE", flags.value, "the value; '-' or absent (with no --file): stdin");
  command->add_option("--file", flags.file, "read the value from a file")
      ->type_name("PATH")
      ->excludes(value);
  command->add_option("--ttl", flags.ttl, "how long the record lives")
      ->type_name("DURATION")
      ->capture_default_str();
  command
      ->add_option("--seq", flags.seq,
                   "version number (default: now, in microseconds)")
      ->type_name("N");
  AddClientFlags(*command, flags.client, /*with_bootstrap=*/true);
  AddDisjointPathsFlag(*command, flags.client.disjoint_paths);
  return [command, value, &flags] {
    if (!command->parsed()) return -1;
    flags.value_given = value->count() > 0;
    return RunPut(flags);
  };
}

Runner AddGet(CLI::App& app, GetFlags& flags) {
  CLI::App* command = app.add_subcommand(
      "get", "fetch the value of a key (bare bytes on stdout)");
  command->add_option(
      "NAME", flags.key,
      "a name in your namespace (or --owner's), or a record's ADDRESS");
  CLI::Option* open = command->add_flag(
      "--open", flags.kind.open, "an open record (anyone may have written it)");
  command->add_option("--owner", flags.owner, "the owner's public key")
      ->type_name("HEX")
      ->excludes(open);
  command->add_option("--hash", flags.hash, "an immutable record's hash")
      ->type_name("HEX")
      ->excludes(open);
  AddKeyFile(*command, flags.kind.key_file);
  AddClientFlags(*command, flags.client, /*with_bootstrap=*/true);
  AddDisjointPathsFlag(*command, flags.client.disjoint_paths);
  return [command, &flags] { return command->parsed() ? RunGet(flags) : -1; };
}

Runner AddPing(CLI::App& app, PingFlags& flags) {
  CLI::App* command = app.add_subcommand("ping", "ping one node");
  command->add_option("ADDRESS", flags.address, "the node's address")
      ->type_name("HOST:PORT")
      ->required();
  AddClientFlags(*command, flags.client, /*with_bootstrap=*/false);
  return [command, &flags] { return command->parsed() ? RunPing(flags) : -1; };
}

Runner AddLookup(CLI::App& app, LookupFlags& flags) {
  CLI::App* command =
      app.add_subcommand("lookup", "find the k nodes closest to a key or id");
  CLI::Option* key =
      command->add_option("KEY", flags.key, "look up this key's position");
  command->add_option("--id", flags.id, "look up this id")
      ->type_name("HEX")
      ->excludes(key);
  AddClientFlags(*command, flags.client, /*with_bootstrap=*/true);
  return
      [command, &flags] { return command->parsed() ? RunLookup(flags) : -1; };
}

Runner AddStats(CLI::App& app, StatsFlags& flags) {
  CLI::App* command =
      app.add_subcommand("stats",
                         "show one node's counters (from loopback, "
                         "or a subnet it allows with --stats-allow)");
  command->add_option("ADDRESS", flags.address, "the node's address")
      ->type_name("HOST:PORT")
      ->required();
  AddClientFlags(*command, flags.client, /*with_bootstrap=*/false);
  return [command, &flags] { return command->parsed() ? RunStats(flags) : -1; };
}

int Main(int argc, char** argv) {
  InitLogging();
  CLI::App app("kad: a Kademlia distributed hash table", "kad");
  app.require_subcommand(1);
  app.set_version_flag("--version", "kad 0.1.0");
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return std::string("kad: error: ") + error.what() + " (see kad --help)\n";
  });
  NodeFlags node;
  OverlayFlags overlay;
  KeygenFlags keygen;
  PutFlags put;
  GetFlags get;
  PingFlags ping;
  LookupFlags lookup;
  StatsFlags stats;
  BenchLookupFlags bench;
  bench.argv = argv;
  BenchRpcFlags bench_rpc;
  const Runner runners[] = {AddNode(app, node), AddOverlay(app, overlay),
                            AddKeygen(app, keygen), AddPut(app, put),
                            AddGet(app, get), AddPing(app, ping),
                            AddLookup(app, lookup), AddStats(app, stats),
                            AddBenchCommand(app, bench, bench_rpc)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? kExitOk : kExitUsage;
  }
  for (const Runner& run : runners) {
    if (int code = run(); code >= 0) return code;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace kad::cli

int main(int argc, char** argv) { return kad::cli::Main(argc, argv); }

#include "cli/node_command.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "cli/arguments.h"
#include "cli/data_dir.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/output.h"
#include "cli/session.h"
#include "dht/node_id.h"
#include "dht/routing_table.h"
#include "net/subnet.h"
#include "spdlog/spdlog.h"

namespace kad::cli {
namespace {

// Joins through the seeds, retrying every kRejoinInterval until one
// answers. Lifetime: must outlive every loop run of `session`; pending
// callbacks it left are destroyed uncalled with the session's node and
// clock.
class Joiner {
 public:
  Joiner(Session& session, std::vector<net::Endpoint> seeds)
      : session_(session), seeds_(std::move(seeds)) {}

  void Start() {
    if (seeds_.empty()) {
      spdlog::info("no --bootstrap given: starting a new overlay");
      return;
    }
    Attempt();
  }

 private:
  void Attempt() {
    session_.node().Bootstrap(
        seeds_, [this](absl::StatusOr<int> joined) { OnResult(joined); });
  }

  void OnResult(const absl::StatusOr<int>& joined) {
    if (joined.ok()) {
      spdlog::info("joined: {} contacts", *joined);
      return;
    }
    spdlog::warn("{}; serving anyway, retrying in {}",
                 std::string(joined.status().message()),
                 absl::FormatDuration(kRejoinInterval));
    session_.clock().Schedule(kRejoinInterval, [this] { Attempt(); });
  }

  Session& session_;
  std::vector<net::Endpoint> seeds_;
};

// Logs one line of counters every kStatsInterval, so an operator sees
// the node's health in its log. Lifetime: must outlive the session's loop.
class StatsLogger {
 public:
  static constexpr absl::Duration kStatsInterval = absl::Minutes(1);

  explicit StatsLogger(Session& session) : session_(session) {}

  void Start() {
    session_.clock().Schedule(kStatsInterval, [this] {
      Log();
      Start();
    });
  }

 private:
  void Log() const {
    const dht::NodeStats& stats = session_.node().stats();
    const storage::StoreStats held = session_.store().stats();
    spdlog::info(
        "stats: {} contacts, {} records ({} bytes), datagrams in {} out {}, "
        "malformed {}, rpc timeouts {} retransmits {} failures {}, "
        "lookups {}, "
        "replication: {} offers, {} records pushed, {} bytes",
        session_.node().routing_table().size(), held.records, held.bytes,
        stats.datagrams_in, stats.datagrams_out, stats.malformed_in,
        stats.rpc_timeouts, stats.rpc_retransmits, stats.rpc_failures,
        stats.lookups_finished,
        stats.offers_sent, stats.records_pushed, stats.maintenance_bytes);
  }

  Session& session_;
};

// Parses --stats-allow; a bad subnet is a usage error naming it.
absl::StatusOr<std::vector<net::Subnet>> ParseStatsAllow(
    const std::vector<std::string>& texts) {
  std::vector<net::Subnet> subnets;
  for (const std::string& text : texts) {
    absl::StatusOr<net::Subnet> subnet = net::Subnet::Parse(text);
    if (!subnet.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad --stats-allow: ", std::string(subnet.status().message())));
    }
    subnets.push_back(*subnet);
  }
  return subnets;
}

// Parses a maintenance interval flag: a positive duration, or "off"
// (InfiniteDuration: the node never does it).
absl::StatusOr<absl::Duration> ParseInterval(const std::string& flag,
                                             const std::string& text) {
  if (text == "off") return absl::InfiniteDuration();
  return ParseDurationArg(flag, text);
}

absl::Status SetMaintenanceIntervals(const NodeFlags& flags,
                                     dht::NodeOptions& node) {
  struct Interval {
    const char* flag;
    const std::string& text;
    absl::Duration& option;
  };
  for (const Interval& interval :
       {Interval{"--replicate-interval", flags.replicate_interval,
                 node.replicate_interval},
        Interval{"--republish-interval", flags.republish_interval,
                 node.republish_interval},
        Interval{"--handoff-delay", flags.handoff_delay, node.handoff_delay}}) {
    absl::StatusOr<absl::Duration> parsed =
        ParseInterval(interval.flag, interval.text);
    if (!parsed.ok()) return parsed.status();
    interval.option = *parsed;
  }
  return absl::OkStatus();
}

absl::StatusOr<SessionOptions> NodeSessionOptions(const NodeFlags& flags) {
  SessionOptions options;
  absl::StatusOr<net::Endpoint> listen = ResolveAddress(flags.listen);
  if (!listen.ok()) return listen.status();
  options.bind = *listen;
  if (!flags.id.empty()) {
    absl::StatusOr<dht::NodeId> id = dht::NodeId::FromHex(flags.id);
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad --id '", flags.id, "': expected 40 hex digits"));
    }
    options.node.id = *id;
  }
  options.node.bucket_size = flags.k;
  options.node.parallelism = flags.alpha;
  absl::StatusOr<std::vector<net::Subnet>> stats_allow =
      ParseStatsAllow(flags.stats_allow);
  if (!stats_allow.ok()) return stats_allow.status();
  options.node.stats_allow = *std::move(stats_allow);
  if (absl::Status set = SetMaintenanceIntervals(flags, options.node);
      !set.ok()) {
    return set;
  }
  return options;
}

const char* SignalName(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "no signal";
  }
}

// Prints the id and bound address on stdout for scripts. Called from the
// running loop, so SIGINT and SIGTERM are already handled by the time a
// script reads the address and may signal the node.
void Announce(const dht::Node& node) {
  std::printf("id %s\nlistening %s\n", node.id().ToHex().c_str(),
              node.endpoint().ToString().c_str());
  std::fflush(stdout);
  spdlog::info("node {} listening on {}", node.id().ToHex(),
               node.endpoint().ToString());
}

// Marks a data-dir failure as such (exit code 4), keeping its message.
absl::Status DataDirError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kDataLoss:
      return status;
    default:
      return absl::FailedPreconditionError(status.message());
  }
}

// Opens --data-dir: the node gets its saved id (or --id, which must match)
// and the LMDB store; with no --bootstrap, the saved contacts are the seeds.
absl::StatusOr<std::unique_ptr<DataDir>> PrepareDataDir(
    const NodeFlags& flags, SessionOptions& options,
    std::vector<net::Endpoint>& seeds) {
  auto dir = DataDir::Open(flags.data_dir);
  if (!dir.ok()) return DataDirError(dir.status());
  auto saved_id = (*dir)->LoadId();
  if (!saved_id.ok()) return DataDirError(saved_id.status());
  if (*saved_id && options.node.id && **saved_id != *options.node.id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data dir ", flags.data_dir, " belongs to node ", (*saved_id)->ToHex(),
        "; --id ", options.node.id->ToHex(), " differs"));
  }
  if (*saved_id) options.node.id = **saved_id;
  options.store = (*dir)->TakeStore();
  if (seeds.empty()) {
    auto saved = (*dir)->LoadContacts();
    if (!saved.ok()) return DataDirError(saved.status());
    seeds = *std::move(saved);
    spdlog::info("rejoining through {} saved contacts", seeds.size());
  }
  return dir;
}

// Saves the routing table's contacts to the data dir kFirstContactSave
// after start, then every kContactSavePeriod, and once more on Save(). Lifetime: must outlive the
// session's loop.
constexpr absl::Duration kFirstContactSave = absl::Seconds(5);

class ContactSaver {
 public:
  ContactSaver(Session& session, const DataDir& dir)
      : session_(session), dir_(dir) {}

  // Saves soon after start (a node killed in its first minute still
  // rejoins through the contacts it just met), then periodically.
  void Start(absl::Duration first = kFirstContactSave) {
    session_.clock().Schedule(first, [this] {
      Save();
      Start(kContactSavePeriod);
    });
  }

  void Save() const {
    absl::Status saved =
        dir_.SaveContacts(session_.node().routing_table().AllContacts());
    if (!saved.ok()) spdlog::warn("{}", saved.ToString());
  }

 private:
  Session& session_;
  const DataDir& dir_;
};

// Runs the node until SIGINT or SIGTERM.
absl::Status Serve(Session& running, std::vector<net::Endpoint> seeds,
                   const DataDir* dir) {
  Joiner joiner(running, std::move(seeds));
  StatsLogger stats(running);
  std::optional<ContactSaver> saver;
  if (dir != nullptr) saver.emplace(running, *dir);
  running.clock().Schedule(absl::ZeroDuration(), [&] {
    Announce(running.node());
    joiner.Start();
    stats.Start();
    if (saver) saver->Start();
  });
  running.loop().Run(net::StopOnSignals::kYes);
  spdlog::info("stopping on {}", SignalName(running.loop().stop_signal()));
  if (saver) saver->Save();
  return absl::OkStatus();
}

absl::Status ServeNode(const NodeFlags& flags) {
  SetLogLevel(flags.log_level);
  absl::StatusOr<SessionOptions> options = NodeSessionOptions(flags);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::vector<net::Endpoint>> seeds =
      ResolveAll(flags.bootstrap);
  if (!seeds.ok()) return seeds.status();
  std::unique_ptr<DataDir> dir;
  if (!flags.data_dir.empty()) {
    auto prepared = PrepareDataDir(flags, *options, *seeds);
    if (!prepared.ok()) return prepared.status();
    dir = *std::move(prepared);
  }
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Create(*std::move(options));
  if (!session.ok()) return session.status();
  Session& running = **session;
  if (dir != nullptr) {
    if (absl::Status saved = dir->SaveId(running.node().id()); !saved.ok()) {
      return DataDirError(saved);
    }
  }
  return Serve(running, *std::move(seeds), dir.get());
}

}  // namespace

int RunNode(const NodeFlags& flags) {
  absl::Status status = ServeNode(flags);
  return status.ok() ? kExitOk : ReportFailure(status);
}

}  // namespace kad::cli

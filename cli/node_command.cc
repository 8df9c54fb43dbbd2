#include "cli/node_command.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "cli/arguments.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/output.h"
#include "cli/session.h"
#include "dht/node_id.h"
#include "dht/routing_table.h"
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
        "malformed {}, rpc timeouts {} failures {}, lookups {}",
        session_.node().routing_table().size(), held.records, held.bytes,
        stats.datagrams_in, stats.datagrams_out, stats.malformed_in,
        stats.rpc_timeouts, stats.rpc_failures, stats.lookups_finished);
  }

  Session& session_;
};

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

absl::Status ServeNode(const NodeFlags& flags) {
  SetLogLevel(flags.log_level);
  absl::StatusOr<SessionOptions> options = NodeSessionOptions(flags);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::vector<net::Endpoint>> seeds =
      ResolveAll(flags.bootstrap);
  if (!seeds.ok()) return seeds.status();
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Create(*std::move(options));
  if (!session.ok()) return session.status();
  Session& running = **session;
  Joiner joiner(running, *std::move(seeds));
  StatsLogger stats(running);
  running.clock().Schedule(absl::ZeroDuration(), [&running, &joiner, &stats] {
    Announce(running.node());
    joiner.Start();
    stats.Start();
  });
  running.loop().Run(net::StopOnSignals::kYes);
  spdlog::info("stopping on {}", SignalName(running.loop().stop_signal()));
  return absl::OkStatus();
}

}  // namespace

int RunNode(const NodeFlags& flags) {
  absl::Status status = ServeNode(flags);
  return status.ok() ? kExitOk : ReportFailure(status);
}

}  // namespace kad::cli

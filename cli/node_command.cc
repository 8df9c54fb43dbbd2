#include "cli/node_command.h"

#include <csignal>
#include <cstdio>
#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "cli/arguments.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/metrics_server.h"
#include "cli/output.h"
#include "cli/session.h"
#include "dht/node_id.h"
#include "dht/timer_set.h"
#include "net/subnet.h"
#include "runtime/data_dir.h"
#include "runtime/node_runtime.h"
#include "runtime/prometheus_metrics.h"
#include "spdlog/spdlog.h"

namespace kad::cli {
namespace {

// Parses a repeatable subnet flag (--stats-allow, --prefix-limit-exempt);
// a bad subnet is a usage error naming the flag. "private" stands for the
// private and link-local ranges (net::PrivateSubnets()).
absl::StatusOr<std::vector<net::Subnet>> ParseSubnets(
    absl::string_view flag, const std::vector<std::string>& texts) {
  std::vector<net::Subnet> subnets;
  for (const std::string& text : texts) {
    if (text == "private") {
      subnets.insert(subnets.end(), net::PrivateSubnets().begin(),
                     net::PrivateSubnets().end());
      continue;
    }
    absl::StatusOr<net::Subnet> subnet = net::Subnet::Parse(text);
    if (!subnet.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad ", flag, ": ", std::string(subnet.status().message())));
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

// Applies --max-records, --max-record-bytes and --store-admission to the
// in-memory store and to the node's store admission.
absl::Status SetStoreLimits(const NodeFlags& flags,
                            runtime::NodeRuntimeOptions& runtime) {
  if (flags.max_records < 1 || flags.max_record_bytes < 1) {
    return absl::InvalidArgumentError(
        "--max-records and --max-record-bytes must be at least 1");
  }
  runtime.memory_store.max_records = flags.max_records;
  runtime.memory_store.max_bytes = flags.max_record_bytes;
  if (flags.store_admission == "off") {
    runtime.node.store_admission.reset();
  } else if (flags.store_admission == "on") {
    dht::StoreAdmissionOptions& admission =
        runtime.node.store_admission.emplace();
    admission.max_records = flags.max_records;
    admission.max_bytes = flags.max_record_bytes;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --store-admission '", flags.store_admission,
        "': expected on or off"));
  }
  return absl::OkStatus();
}

// Applies --rate-limit, --rate-limit-global and --reply-budget to the
// defaults of dht::AdmissionOptions and dht::ReplyBudgetOptions.
absl::Status SetAbuseLimits(const NodeFlags& flags, dht::NodeOptions& node) {
  absl::StatusOr<std::optional<double>> per_source =
      ParseRateArg("--rate-limit", flags.rate_limit);
  if (!per_source.ok()) return per_source.status();
  absl::StatusOr<std::optional<double>> global =
      ParseRateArg("--rate-limit-global", flags.rate_limit_global);
  if (!global.ok()) return global.status();
  absl::StatusOr<std::optional<double>> reply_bytes =
      ParseRateArg("--reply-budget", flags.reply_budget);
  if (!reply_bytes.ok()) return reply_bytes.status();

  dht::AdmissionOptions& admission = node.admission.emplace();
  admission.per_address.reset();
  admission.per_prefix.reset();
  admission.ban_after_excess.reset();
  if (*per_source) {
    const double rate = **per_source;
    // The defaults' shape: bursts of 5 s worth, a /24 five hosts' worth,
    // a ban after 4x the rate for 10 s.
    admission.per_address = dht::RateLimit{rate, 5 * rate};
    admission.per_prefix = dht::RateLimit{5 * rate, 25 * rate};
    admission.ban_after_excess = dht::RateLimit{4 * rate, 40 * rate};
  }
  admission.global.reset();
  if (*global) admission.global = dht::RateLimit{**global, **global};
  if (!*per_source && !*global) node.admission.reset();

  node.reply_budget.reset();
  if (*reply_bytes) {
    dht::ReplyBudgetOptions& budget = node.reply_budget.emplace(
        dht::DefaultReplyBudget());
    const double bytes = std::max(**reply_bytes, 1500.0);  // A datagram.
    budget.per_address = dht::RateLimit{bytes, bytes};
    budget.per_prefix = dht::RateLimit{4 * bytes, 4 * bytes};
  }
  return absl::OkStatus();
}

// Applies --commit-batch and --commit-delay.
absl::Status SetGroupCommit(const NodeFlags& flags, dht::NodeOptions& node) {
  if (flags.commit_batch < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --commit-batch ", flags.commit_batch, ": must be at least 1"));
  }
  node.store_commit_batch = static_cast<size_t>(flags.commit_batch);
  if (flags.commit_delay == "0") {
    node.store_commit_delay = absl::ZeroDuration();
    return absl::OkStatus();
  }
  absl::StatusOr<absl::Duration> delay =
      ParseDurationArg("--commit-delay", flags.commit_delay);
  if (!delay.ok()) return delay.status();
  node.store_commit_delay = *delay;
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
    options.runtime.node.id = *id;
  }
  dht::NodeOptions& node = options.runtime.node;
  node.bucket_size = flags.k;
  node.parallelism = flags.alpha;
  node.id_binding.enforce = flags.enforce_id_binding;
  node.disjoint_paths = flags.disjoint_paths;
  absl::StatusOr<std::vector<net::Subnet>> stats_allow =
      ParseSubnets("--stats-allow", flags.stats_allow);
  if (!stats_allow.ok()) return stats_allow.status();
  node.stats_allow = *std::move(stats_allow);
  absl::StatusOr<std::vector<net::Subnet>> exempt =
      ParseSubnets("--prefix-limit-exempt", flags.prefix_limit_exempt);
  if (!exempt.ok()) return exempt.status();
  // Loopback stays exempt: it is never a distinct host.
  node.prefix_limit_exempt.insert(node.prefix_limit_exempt.end(),
                                  exempt->begin(), exempt->end());
  if (absl::Status set = SetMaintenanceIntervals(flags, node);
      !set.ok()) {
    return set;
  }
  if (absl::Status set = SetAbuseLimits(flags, node); !set.ok()) return set;
  if (absl::Status set = SetStoreLimits(flags, options.runtime); !set.ok()) {
    return set;
  }
  if (absl::Status set = SetGroupCommit(flags, node); !set.ok()) return set;
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

// Prints the id, bound address and metrics URL on stdout for scripts.
// Called from the running loop, so SIGINT and SIGTERM are already handled
// by the time a script reads the address and may signal the node.
void Announce(const dht::Node& node, const MetricsServer* metrics) {
  std::printf("id %s\nlistening %s\n", node.id().ToHex().c_str(),
              node.endpoint().ToString().c_str());
  if (metrics != nullptr) {
    std::printf("metrics http://%s/metrics\n",
                metrics->endpoint().ToString().c_str());
  }
  std::fflush(stdout);
  spdlog::info("node {} listening on {}", node.id().ToHex(),
               node.endpoint().ToString());
}

// Hands `metrics` a snapshot of `node` now and every kMetricsRefresh, on
// the loop thread, until `timers` is destroyed.
void RefreshMetrics(dht::TimerSet& timers, MetricsServer& metrics,
                    const dht::Node& node) {
  metrics.Publish(runtime::TakeMetricsSnapshot(node));
  timers.Schedule(kMetricsRefresh, [&timers, &metrics, &node] {
    RefreshMetrics(timers, metrics, node);
  });
}

// Runs the node until SIGINT or SIGTERM, then saves its contacts.
// `metrics` (null: none) must outlive the call.
absl::Status Serve(Session& running, MetricsServer* metrics) {
  runtime::NodeRuntime& node_runtime = running.runtime();
  dht::TimerSet metrics_timers(running.clock());
  if (metrics != nullptr) {
    RefreshMetrics(metrics_timers, *metrics, node_runtime.node());
  }
  running.clock().Schedule(absl::ZeroDuration(), [&] {
    Announce(node_runtime.node(), metrics);
    if (node_runtime.seeds().empty()) {
      spdlog::info("no --bootstrap given: starting a new overlay");
    }
    node_runtime.Start();
  });
  running.loop().Run(net::StopOnSignals::kYes);
  spdlog::info("stopping on {}", SignalName(running.loop().stop_signal()));
  if (absl::Status saved = node_runtime.SaveContacts(); !saved.ok()) {
    spdlog::warn("{}", saved.ToString());
  }
  return absl::OkStatus();
}

absl::Status ServeNode(const NodeFlags& flags) {
  SetLogLevel(flags.log_level);
  absl::StatusOr<SessionOptions> options = NodeSessionOptions(flags);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::vector<net::Endpoint>> seeds =
      ResolveAll(flags.bootstrap);
  if (!seeds.ok()) return seeds.status();
  options->runtime.seeds = *std::move(seeds);
  options->runtime.stats_interval = kStatsLogInterval;
  // Opened before the socket is bound: a second node on the same dir is
  // refused as such, whatever address it asked for.
  if (!flags.data_dir.empty()) {
    absl::StatusOr<std::unique_ptr<runtime::DataDir>> dir =
        runtime::DataDir::Open(
            flags.data_dir,
            storage::LmdbStoreOptions{.max_records = flags.max_records,
                                      .max_bytes = flags.max_record_bytes});
    if (!dir.ok()) return dir.status();
    options->data_dir = *std::move(dir);
  }
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Create(*std::move(options));
  if (!session.ok()) return session.status();
  std::unique_ptr<MetricsServer> metrics;
  if (!flags.metrics.empty()) {
    absl::StatusOr<net::Endpoint> address = ParseMetricsAddress(flags.metrics);
    if (!address.ok()) return address.status();
    absl::StatusOr<std::unique_ptr<MetricsServer>> started =
        MetricsServer::Start(*address);
    if (!started.ok()) return started.status();
    metrics = *std::move(started);
  }
  return Serve(**session, metrics.get());
}

}  // namespace

int RunNode(const NodeFlags& flags) {
  absl::Status status = ServeNode(flags);
  return status.ok() ? kExitOk : ReportFailure(status);
}

}  // namespace kad::cli

// `kad bench lookup` as a program: the real binary, its JSON schema and
// its exit codes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace kad {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(60);

struct Result {
  int exit_code = -1;  // -1: killed at the deadline.
  std::string out;
  std::string err;
};

// Runs KAD_BINARY with `args`, collecting stdout and stderr until both
// close or kDeadline passes (then the child is killed).
Result RunKad(std::vector<std::string> args) {
  Result result;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  args.insert(args.begin(), KAD_BINARY);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, KAD_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  EXPECT_EQ(rc, 0) << "posix_spawn " << KAD_BINARY;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* texts[2] = {&result.out, &result.err};
  const absl::Time deadline = absl::Now() + kDeadline;
  int open = rc == 0 ? 2 : 0;
  while (open > 0 && absl::Now() < deadline) {
    if (poll(fds, 2, 100) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        texts[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  if (rc != 0) return result;
  if (open > 0) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (open == 0 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

TEST(BenchCliTest, SimulatedLookupsPrintTheDocumentedJson) {
  Result run = RunKad({"bench", "lookup", "--sim", "--nodes", "200",
                       "--lookups", "100", "--seed", "3", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << run.out;
  EXPECT_EQ(json["nodes"], 200);
  EXPECT_EQ(json["lookups"], 100);
  EXPECT_EQ(json["seed"], 3);
  EXPECT_EQ(json["transport"], "sim");
  for (const char* number : {"bootstrap_seconds", "bootstrap_virtual_seconds",
                             "bytes_per_node", "success_rate",
                             "median_rtt_ms"}) {
    EXPECT_TRUE(json[number].is_number()) << number;
  }
  EXPECT_GE(json["success_rate"].get<double>(), 0.95);
  for (const char* summary :
       {"hops", "rpcs", "bytes", "latency_ms", "latency_rtt"}) {
    for (const char* stat : {"mean", "p50", "p90", "p99", "max"}) {
      EXPECT_TRUE(json[summary][stat].is_number()) << summary << "." << stat;
    }
  }
  EXPECT_EQ(run.err, "") << "no progress bar when stderr is not a terminal";
}

TEST(BenchCliTest, SimulationsRestartOnHugePagesUnlessTurnedOff) {
  const std::vector<std::string> args = {"bench",   "lookup", "--sim",
                                         "--nodes", "60",     "--lookups",
                                         "20",      "--json"};
  Result on = RunKad(args);
  std::vector<std::string> off_args = args;
  off_args.insert(off_args.end(), {"--huge-pages", "off"});
  Result off = RunKad(off_args);
  ASSERT_EQ(on.exit_code, 0) << on.err;
  ASSERT_EQ(off.exit_code, 0) << off.err;
  nlohmann::json on_json = nlohmann::json::parse(on.out, nullptr, false);
  nlohmann::json off_json = nlohmann::json::parse(off.out, nullptr, false);
  ASSERT_FALSE(on_json.is_discarded()) << on.out;
  ASSERT_FALSE(off_json.is_discarded()) << off.out;
  EXPECT_EQ(on_json["heap_huge_pages"], true);
  EXPECT_EQ(off_json["heap_huge_pages"], false);
  // Only where memory comes from differs: the seeded results do not.
  for (const char* field : {"hops", "rpcs", "latency_ms", "success_rate",
                            "bootstrap_virtual_seconds"}) {
    EXPECT_EQ(on_json[field], off_json[field]) << field;
  }
  Result bad = RunKad({"bench", "lookup", "--huge-pages", "maybe"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--huge-pages"));
}

TEST(BenchCliTest, CsvIsAHeaderAndARow) {
  Result run = RunKad({"bench", "lookup", "--nodes", "50", "--lookups", "20",
                       "--csv"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, ::testing::StartsWith("nodes,lookups,seed,transport,"));
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 2);
}

TEST(BenchCliTest, BadFlagsAreUsageErrors) {
  Result loss = RunKad({"bench", "lookup", "--loss", "1.5"});
  EXPECT_EQ(loss.exit_code, 2);
  EXPECT_THAT(loss.err, HasSubstr("--loss"));
  Result rtt = RunKad({"bench", "lookup", "--rtt", "fast"});
  EXPECT_EQ(rtt.exit_code, 2);
  EXPECT_THAT(rtt.err, HasSubstr("kad: error: --rtt"));
  Result udp = RunKad({"bench", "lookup", "--udp", "--churn", "0.1"});
  EXPECT_EQ(udp.exit_code, 2);
  EXPECT_THAT(udp.err, HasSubstr("need --sim"));
  Result both = RunKad({"bench", "lookup", "--sim", "--udp"});
  EXPECT_EQ(both.exit_code, 2);
  Result threads = RunKad({"bench", "lookup", "--sim-threads", "0"});
  EXPECT_EQ(threads.exit_code, 2);
  EXPECT_THAT(threads.err, HasSubstr("--sim-threads"));
  Result hostile = RunKad({"bench", "lookup", "--sim-threads", "2",
                           "--adversary", "0.1", "--attack", "drop"});
  EXPECT_EQ(hostile.exit_code, 2);
  EXPECT_THAT(hostile.err, HasSubstr("honest overlay"));
}

// A join on two threads is reproducible like any other run: one seed, one
// report, but for the wall-clock fields.
TEST(BenchCliTest, AJoinOnTwoThreadsIsReproducible) {
  const std::vector<std::string> args = {
      "bench",    "lookup", "--sim",         "--nodes", "400", "--lookups",
      "100",      "--loss", "0.01",          "--json",  "--sim-threads", "2"};
  nlohmann::json runs[2];
  for (nlohmann::json& json : runs) {
    Result run = RunKad(args);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    json = nlohmann::json::parse(run.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << run.out;
    for (const char* wall : {"bootstrap_seconds", "lookup_seconds",
                             "bytes_per_node"}) {
      json.erase(wall);
    }
  }
  EXPECT_EQ(runs[0]["sim_threads"], 2);
  EXPECT_EQ(runs[0]["bootstrap_failures"], 0);
  EXPECT_GE(runs[0]["success_rate"].get<double>(), 0.95);
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(BenchCliTest, RpcBenchCountsRepliesAndPrintsTheDocumentedJson) {
  Result run = RunKad({"bench", "rpc", "--duration", "200ms", "--warmup",
                       "50ms", "--requests", "ping,find_node,find_value_present",
                       "--gates", "off,raised,default", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << run.out;
  EXPECT_EQ(json["benchmark"], "rpc");
  EXPECT_EQ(json["interrupted"], false);
  EXPECT_EQ(json["options"]["repeat"], 1);
  // Two echoes with pings, three node settings with three kinds each.
  ASSERT_EQ(json["results"].size(), 2u + 3u * 3u);
  for (const nlohmann::json& result : json["results"]) {
    const std::string name = result["target"].get<std::string>() + " " +
                             result["request"].get<std::string>();
    for (const char* number : {"requests_per_s", "requests_per_cpu_s"}) {
      EXPECT_TRUE(result[number].is_number()) << name << " " << number;
    }
    EXPECT_EQ(result["samples_per_s"].size(), 1u) << name;
    const nlohmann::json& round = result["median_round"];
    for (const char* number :
         {"seconds", "sent_per_s", "replies", "timeouts", "server_cpu_seconds",
          "request_bytes", "reply_bytes_mean"}) {
      EXPECT_TRUE(round[number].is_number()) << name << " " << number;
    }
    for (const char* stat : {"p50", "p90", "p99", "max"}) {
      EXPECT_TRUE(round["latency_us"][stat].is_number()) << name << " " << stat;
    }
    EXPECT_GT(round["sent_per_s"].get<double>(), 0) << name;
    EXPECT_TRUE(round["server"]["datagrams_received"].is_number()) << name;
    // Every target answers, the flooded node too (its burst, at least).
    EXPECT_GT(round["replies"].get<uint64_t>(), 0u) << name;
    if (result["target"] == "libuv_echo" || result["target"] == "raw_echo") {
      EXPECT_TRUE(result["gate"].is_null());
      continue;
    }
    EXPECT_TRUE(result["gate"].is_string()) << name;
    EXPECT_TRUE(round["server"]["gate"]["admitted"].is_number()) << name;
    if (result["request"] == "find_node") {
      EXPECT_EQ(round["reply_contacts"], 20) << name;
    }
    if (result["request"] == "find_value_present") {
      EXPECT_EQ(round["reply_has_record"], true) << name;
    }
  }
  for (const char* ratio :
       {"libuv_echo/raw_echo", "node_gate_off/libuv_echo",
        "node_gate_raised/libuv_echo", "node_gate_raised/raw_echo"}) {
    EXPECT_TRUE(json["ratios"][ratio].is_number()) << ratio;
    EXPECT_TRUE(json["ratios_wall"][ratio].is_number()) << ratio;
  }
  EXPECT_TRUE(json["gate_cost_ns"]["ping"]["raised"].is_number());
}

TEST(BenchCliTest, RpcBenchBadFlagsAreUsageErrors) {
  Result gate = RunKad({"bench", "rpc", "--gates", "sometimes"});
  EXPECT_EQ(gate.exit_code, 2);
  EXPECT_THAT(gate.err, HasSubstr("--gates"));
  Result window = RunKad({"bench", "rpc", "--window", "0"});
  EXPECT_EQ(window.exit_code, 2);
  Result duration = RunKad({"bench", "rpc", "--duration", "soon"});
  EXPECT_EQ(duration.exit_code, 2);
  EXPECT_THAT(duration.err, HasSubstr("--duration"));
}

TEST(BenchCliTest, UdpLookupsRunOnLoopback) {
  Result run = RunKad({"bench", "lookup", "--udp", "--nodes", "40",
                       "--lookups", "20", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << run.out;
  EXPECT_EQ(json["transport"], "udp");
  EXPECT_EQ(json["lookups"], 20);
  EXPECT_GE(json["success_rate"].get<double>(), 0.9);
}

}  // namespace
}  // namespace kad

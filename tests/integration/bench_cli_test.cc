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

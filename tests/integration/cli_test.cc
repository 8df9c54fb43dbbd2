// Integration tests of the kad program: real `kad node` processes on
// loopback UDP, driven by real one-shot `kad` commands. Children run with
// posix_spawn and pipes (no shell); every wait has a deadline; no fixed
// ports: nodes bind 127.0.0.1:0 and print the address they got.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "dht/node_id.h"
#include "dht/node_stats.h"
#include "dht/wire_codec.h"
#include "net/endpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace kad {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kStartDeadline = std::chrono::seconds(20);
constexpr auto kCommandDeadline = std::chrono::seconds(30);
constexpr int kOverlaySize = 8;

// Everything a child writes to one pipe, collected by a thread so the
// child never blocks on a full pipe.
class Capture {
 public:
  explicit Capture(int fd) : fd_(fd), thread_([this] { Drain(); }) {}
  ~Capture() {
    thread_.join();
    close(fd_);
  }

  // Waits until `done(text)` holds, the stream ends or `deadline` passes;
  // returns whether `done` held.
  bool WaitFor(const std::function<bool(const std::string&)>& done,
               SteadyClock::time_point deadline) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return done(text_) || eof_; });
    return done(text_);
  }
  bool WaitForEnd(SteadyClock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return eof_; });
  }
  std::string text() const {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  void Drain() {
    char buffer[4096];
    while (true) {
      ssize_t n = read(fd_, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mu_);
      if (n <= 0) {
        eof_ = true;
        cv_.notify_all();
        return;
      }
      text_.append(buffer, static_cast<size_t>(n));
      cv_.notify_all();
    }
  }

  int fd_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  bool eof_ = false;
  std::thread thread_;  // Last: starts once the members above exist.
};

// The signing key of this test program's commands (created by the first
// signed put), so that no test touches the user's ~/.config/kad/key.
std::string TestKeyPath() {
  return absl::StrCat(::testing::TempDir(), "/kad-cli-test-key-", getpid());
}

// Returns our environment without KAD_BOOTSTRAP and KAD_KEY, plus
// KAD_KEY=TestKeyPath() and `extra` entries (a later KAD_KEY wins).
std::vector<std::string> ChildEnvironment(
    const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!absl::StartsWith(*entry, "KAD_BOOTSTRAP=") &&
        !absl::StartsWith(*entry, "KAD_KEY=")) {
      env.emplace_back(*entry);
    }
  }
  bool own_key = false;
  for (const std::string& entry : extra) {
    own_key = own_key || absl::StartsWith(entry, "KAD_KEY=");
  }
  if (!own_key) env.push_back(absl::StrCat("KAD_KEY=", TestKeyPath()));
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// One running kad process. The destructor kills it if it still runs.
class KadProcess {
 public:
  // Starts KAD_BINARY with `args`, writes `input` to its stdin and closes
  // it. Returns null (and records a failure) if the spawn fails.
  static std::unique_ptr<KadProcess> Start(
      std::vector<std::string> args, const std::string& input = "",
      const std::vector<std::string>& extra_env = {}) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
        pipe2(err, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    args.insert(args.begin(), KAD_BINARY);
    std::vector<std::string> env = ChildEnvironment(extra_env);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, KAD_BINARY, &actions, nullptr,
                         CStrings(args).data(), CStrings(env).data());
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << KAD_BINARY << ": "
                    << std::strerror(rc);
      close(in[1]), close(out[0]), close(err[0]);
      return nullptr;
    }
    // A child that exits without reading stdin must not kill us (SIGPIPE).
    signal(SIGPIPE, SIG_IGN);
    [[maybe_unused]] ssize_t written = write(in[1], input.data(), input.size());
    close(in[1]);
    return std::unique_ptr<KadProcess>(new KadProcess(pid, out[0], err[0]));
  }

  ~KadProcess() {
    if (!reaped_) {
      kill(pid_, SIGKILL);
      Reap();
    }
  }

  // Waits for the process to exit; returns its exit code (128 + signal if
  // killed), or nullopt if `deadline` passed, after killing it.
  std::optional<int> Wait(SteadyClock::time_point deadline) {
    if (!out_.WaitForEnd(deadline) || !err_.WaitForEnd(deadline)) {
      kill(pid_, SIGKILL);
      Reap();
      return std::nullopt;
    }
    return Reap();
  }

  void Signal(int signal) { kill(pid_, signal); }
  Capture& out() { return out_; }
  Capture& err() { return err_; }

 private:
  KadProcess(pid_t pid, int out_fd, int err_fd)
      : pid_(pid), out_(out_fd), err_(err_fd) {}

  int Reap() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t pid_;
  bool reaped_ = false;
  Capture out_;
  Capture err_;
};

struct Result {
  int exit_code = -1;  // -1: did not finish before kCommandDeadline.
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.exit_code << "\nstdout: " << r.out
            << "\nstderr: " << r.err;
}

// Runs one kad command to completion.
Result RunKad(const std::vector<std::string>& args,
              const std::string& input = "",
              const std::vector<std::string>& extra_env = {}) {
  std::unique_ptr<KadProcess> process =
      KadProcess::Start(args, input, extra_env);
  if (process == nullptr) return {};
  std::optional<int> code =
      process->Wait(SteadyClock::now() + kCommandDeadline);
  return {code.value_or(-1), process->out().text(), process->err().text()};
}

nlohmann::json ParseJson(const Result& result) {
  nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << result;
  return json;
}

// Returns the rest of the first complete line starting with `prefix`, or
// "" if there is none yet.
std::string LineValue(const std::string& text, const std::string& prefix) {
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1) {
    std::string line = text.substr(start, end - start);
    if (absl::StartsWith(line, prefix)) return line.substr(prefix.size());
  }
  return "";
}

// A UDP socket bound to 127.0.0.1 that never answers.
class SilentPort {
 public:
  SilentPort() : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentPort() { close(fd_); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_;
  uint16_t port_ = 0;
};

struct RunningNode {
  std::unique_ptr<KadProcess> process;
  std::string id;
  std::string address;
};

class CliTest : public ::testing::Test {
 protected:
  void TearDown() override { nodes_.clear(); }

  // Starts a node on 127.0.0.1:0 and waits for its id and address.
  void StartNode(std::vector<std::string> extra_args) {
    std::vector<std::string> args = {"node", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    RunningNode node{KadProcess::Start(args), "", ""};
    ASSERT_NE(node.process, nullptr);
    bool listening = node.process->out().WaitFor(
        [](const std::string& text) {
          return !LineValue(text, "listening ").empty();
        },
        SteadyClock::now() + kStartDeadline);
    std::string out = node.process->out().text();
    ASSERT_TRUE(listening) << "stdout: " << out
                           << "\nstderr: " << node.process->err().text();
    node.id = LineValue(out, "id ");
    node.address = LineValue(out, "listening ");
    ASSERT_EQ(node.id.size(), 40u) << out;
    nodes_.push_back(std::move(node));
  }

  // Starts kOverlaySize nodes: the first alone, the others joining through
  // it; waits until every one of them has logged that it joined.
  void StartOverlay() {
    ASSERT_NO_FATAL_FAILURE(StartNode({}));
    for (int i = 1; i < kOverlaySize; ++i) {
      ASSERT_NO_FATAL_FAILURE(StartNode({"--bootstrap", seed()}));
    }
    for (int i = 1; i < kOverlaySize; ++i) {
      Capture& err = nodes_[i].process->err();
      ASSERT_TRUE(err.WaitFor(
          [](const std::string& text) {
            return absl::StrContains(text, "joined: ");
          },
          SteadyClock::now() + kStartDeadline))
          << "node " << i << " did not join; stderr: " << err.text();
    }
  }

  const std::string& seed() const { return nodes_[0].address; }
  const std::string& address(int i) const { return nodes_[i].address; }

  std::vector<RunningNode> nodes_;
};

TEST_F(CliTest, PutThenGetThroughDifferentNodes) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  Result put =
      RunKad({"put", "greeting", "hello, world", "--bootstrap", address(2)});
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_THAT(put.out, MatchesRegex("stored \"greeting\" on [1-9][0-9]* of "
                                    "[1-9][0-9]* nodes \\(seq [0-9]+\\)\n"
                                    "address [0-9a-f]{40}\n"));
  Result get = RunKad({"get", "greeting", "--bootstrap", address(6)});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(get.out, "hello, world");
}

TEST_F(CliTest, PutAndGetReportJson) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  Result put = RunKad({"put", "colour", "blue", "--seq", "42", "--json",
                       "--bootstrap", address(1)});
  ASSERT_EQ(put.exit_code, 0) << put;
  nlohmann::json stored = ParseJson(put);
  EXPECT_EQ(stored["key"], "colour");
  const std::string address_hex = stored["address"];
  EXPECT_EQ(address_hex.size(), 40u);
  EXPECT_EQ(stored["owner"].get<std::string>().size(), 64u);
  EXPECT_EQ(stored["key_id"],
            dht::NodeId::ForKey(absl::HexStringToBytes(address_hex)).ToHex());
  EXPECT_EQ(stored["seq"], 42);
  EXPECT_GE(stored["stored"].get<int>(), 1);
  EXPECT_LE(stored["stored"].get<int>(), stored["attempted"].get<int>());

  Result get = RunKad({"get", "colour", "--json", "--bootstrap", address(7)});
  ASSERT_EQ(get.exit_code, 0) << get;
  nlohmann::json found = ParseJson(get);
  EXPECT_EQ(found["key"], "colour");
  EXPECT_EQ(found["value"], "blue");
  EXPECT_EQ(found["encoding"], "utf-8");
  EXPECT_EQ(found["seq"], 42);
  EXPECT_GE(found["replicas"].get<int>(), 1);
}

TEST_F(CliTest, BinaryValueRoundTripsAsBase64AndAsRawBytes) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  std::string value;
  for (int b = 255; b >= 0; --b) value.push_back(static_cast<char>(b));
  Result put = RunKad({"put", "blob", "-", "--bootstrap", address(3)}, value);
  ASSERT_EQ(put.exit_code, 0) << put;

  Result json = RunKad({"get", "blob", "--json", "--bootstrap", address(5)});
  ASSERT_EQ(json.exit_code, 0) << json;
  nlohmann::json found = ParseJson(json);
  EXPECT_EQ(found["encoding"], "base64");
  std::string decoded;
  ASSERT_TRUE(
      absl::Base64Unescape(found["value"].get<std::string>(), &decoded));
  EXPECT_EQ(decoded, value);

  Result raw = RunKad({"get", "blob", "--bootstrap", address(4)});
  ASSERT_EQ(raw.exit_code, 0) << raw;
  EXPECT_EQ(raw.out, value);
}

TEST_F(CliTest, PutReadsTheValueFromAFile) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  std::string path = ::testing::TempDir() + "kad_cli_test_value";
  std::ofstream(path, std::ios::binary) << "from a file\n";
  Result put = RunKad({"put", "filed", "--file", path, "--bootstrap", seed()});
  ASSERT_EQ(put.exit_code, 0) << put;
  Result get = RunKad({"get", "filed", "--bootstrap", address(2)});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(get.out, "from a file\n");
  std::remove(path.c_str());
}

TEST_F(CliTest, GetOfAMissingKeyExitsOne) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  Result get = RunKad({"get", "no-such-key", "--bootstrap", address(3)});
  EXPECT_EQ(get.exit_code, 1) << get;
  EXPECT_EQ(get.out, "");
  EXPECT_THAT(get.err, StartsWith("kad: error: "));
  EXPECT_THAT(get.err, HasSubstr("not found"));
}

TEST_F(CliTest, BootstrapComesFromTheEnvironment) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  std::string env = absl::StrCat("KAD_BOOTSTRAP=", address(1), ",", address(2));
  Result put = RunKad({"put", "env-key", "env-value"}, "", {env});
  ASSERT_EQ(put.exit_code, 0) << put;
  Result get = RunKad({"get", "env-key"}, "", {env});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(get.out, "env-value");
}

// Sends `datagrams` to 127.0.0.1:`port` from a fresh socket.
void SendDatagrams(uint16_t port, const std::vector<std::string>& datagrams) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  for (const std::string& datagram : datagrams) {
    sendto(fd, datagram.data(), datagram.size(), 0,
           reinterpret_cast<sockaddr*>(&to), sizeof(to));
  }
  close(fd);
}

TEST_F(CliTest, GarbageAndTruncatedDatagramsAreDroppedAndTheNodeServesOn) {
  ASSERT_NO_FATAL_FAILURE(StartNode({"--log-level", "debug"}));
  std::mt19937_64 gen(11);
  std::vector<std::string> junk;
  for (int i = 0; i < 500; ++i) {
    std::string datagram(gen() % 1400, '\0');
    for (char& c : datagram) c = static_cast<char>(gen());
    junk.push_back(datagram);
  }
  // Every truncation of a valid ping, and a ping with trailing garbage.
  std::vector<uint8_t> ping = *kad::dht::EncodeMessage(
      {1, kad::dht::NodeId(), kad::dht::Ping{}}, absl::Now());
  std::string whole(ping.begin(), ping.end());
  for (size_t n = 0; n < whole.size(); ++n) junk.push_back(whole.substr(0, n));
  junk.push_back(whole + "trailing");
  uint16_t port = kad::net::Endpoint::Parse(address(0))->port();
  ASSERT_NO_FATAL_FAILURE(SendDatagrams(port, junk));

  Result pong = RunKad({"ping", address(0)});
  EXPECT_EQ(pong.exit_code, 0) << pong;
  EXPECT_TRUE(nodes_[0].process->err().WaitFor(
      [](const std::string& text) {
        return absl::StrContains(text, "dropped datagram from 127.0.0.1");
      },
      SteadyClock::now() + kStartDeadline));
}

TEST_F(CliTest, PingReportsTheNodesIdAndAddress) {
  ASSERT_NO_FATAL_FAILURE(StartNode({}));
  Result json = RunKad({"ping", address(0), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json;
  nlohmann::json pong = ParseJson(json);
  EXPECT_EQ(pong["id"], nodes_[0].id);
  EXPECT_EQ(pong["address"], address(0));
  EXPECT_GE(pong["rtt_ms"].get<double>(), 0.0);

  Result text = RunKad({"ping", address(0)});
  ASSERT_EQ(text.exit_code, 0) << text;
  EXPECT_THAT(text.out, MatchesRegex("pong from " + nodes_[0].id + " at " +
                                     address(0) + " in [0-9]+\\.[0-9] ms\n"));
}

TEST_F(CliTest, StatsReportTheNodesCounters) {
  ASSERT_NO_FATAL_FAILURE(
      StartNode({"--stats-allow", "10.0.0.0/8", "--stats-allow", "fd00::/8",
                 "--prefix-limit-exempt", "private",
                 "--prefix-limit-exempt", "198.18.0.0/15"}));
  // The maintenance flags are accepted, "off" included.
  ASSERT_NO_FATAL_FAILURE(StartNode(
      {"--bootstrap", seed(), "--replicate-interval", "30m",
       "--republish-interval", "off", "--handoff-delay", "5s"}));
  ASSERT_EQ(RunKad({"ping", address(0)}).exit_code, 0);
  Result json = RunKad({"stats", address(0), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json;
  nlohmann::json stats = ParseJson(json);
  EXPECT_EQ(stats["id"], nodes_[0].id);
  EXPECT_EQ(stats["address"], address(0));
  EXPECT_GE(stats["contacts"].get<int>(), 0);
  EXPECT_GE(stats["uptime_seconds"].get<int>(), 0);
  EXPECT_GT(stats["datagrams_in"].get<int>(), 0);
  EXPECT_GT(stats["bytes_in"].get<int>(), stats["datagrams_in"].get<int>());
  EXPECT_GE(stats["messages_in"]["ping"].get<int>(), 1);
  EXPECT_EQ(stats["messages_in"]["stats"], 1);
  EXPECT_EQ(stats["messages_in"].size(), dht::kMessageTypeCount);
  int bucket_contacts = 0;
  for (const nlohmann::json& bucket : stats["buckets"]) {
    bucket_contacts += bucket["contacts"].get<int>();
  }
  EXPECT_EQ(bucket_contacts, stats["contacts"].get<int>());
  for (const char* percentile : {"p50", "p90", "p99", "max"}) {
    EXPECT_GE(stats["lookup_latency_ms"][percentile].get<double>(), 0.0);
  }

  Result text = RunKad({"stats", address(0)});
  ASSERT_EQ(text.exit_code, 0) << text;
  EXPECT_EQ(LineValue(text.out, "id           "), nodes_[0].id) << text;
  EXPECT_EQ(LineValue(text.out, "address      "), address(0)) << text;
  EXPECT_THAT(LineValue(text.out, "messages in  "), HasSubstr("stats 2"))
      << text;
  EXPECT_THAT(LineValue(text.out, "latency      "),
              MatchesRegex("p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms, "
                           "max [0-9.]+ ms"))
      << text;
}

TEST_F(CliTest, StatsOfASilentAddressExitsThree) {
  SilentPort silent;
  Result stats = RunKad({"stats", silent.address(), "--timeout", "2s"});
  EXPECT_EQ(stats.exit_code, 3) << stats;
  EXPECT_THAT(stats.err, StartsWith("kad: error: "));
}

TEST_F(CliTest, LookupFindsEveryNodeClosestFirst) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  const RunningNode& target = nodes_[5];
  Result lookup = RunKad(
      {"lookup", "--id", target.id, "--json", "--bootstrap", address(1)});
  ASSERT_EQ(lookup.exit_code, 0) << lookup;
  nlohmann::json found = ParseJson(lookup);
  EXPECT_EQ(found["target"], target.id);
  const nlohmann::json& nodes = found["nodes"];
  ASSERT_EQ(nodes.size(), static_cast<size_t>(kOverlaySize)) << lookup;
  EXPECT_EQ(nodes[0]["id"], target.id);
  EXPECT_EQ(nodes[0]["address"], target.address);
  EXPECT_EQ(nodes[0]["distance"], std::string(40, '0'));
  for (size_t i = 1; i < nodes.size(); ++i) {
    EXPECT_LT(nodes[i - 1]["distance"].get<std::string>(),
              nodes[i]["distance"].get<std::string>());
  }
  for (const nlohmann::json& node : nodes) {
    auto match = std::find_if(nodes_.begin(), nodes_.end(), [&](auto& n) {
      return n.id == node["id"] && n.address == node["address"];
    });
    EXPECT_NE(match, nodes_.end()) << node;
  }
}

TEST_F(CliTest, LookupOfAKeyTargetsItsKeyId) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  Result json = RunKad({"lookup", "some-key", "--json", "--bootstrap", seed()});
  ASSERT_EQ(json.exit_code, 0) << json;
  EXPECT_EQ(ParseJson(json)["target"], dht::NodeId::ForKey("some-key").ToHex());

  Result text = RunKad({"lookup", "some-key", "--bootstrap", seed()});
  ASSERT_EQ(text.exit_code, 0) << text;
  EXPECT_THAT(text.out,
              StartsWith("target " + dht::NodeId::ForKey("some-key").ToHex()));
  EXPECT_THAT(text.out, HasSubstr(absl::StrCat(kOverlaySize, " nodes; ")));
}

TEST_F(CliTest, ValueOverTheLimitExitsTwoAndNamesTheLimit) {
  SilentPort silent;
  Result put = RunKad({"put", "--open", "big", std::string(1001, 'x'),
                      "--bootstrap", silent.address()});
  EXPECT_EQ(put.exit_code, 2) << put;
  EXPECT_THAT(put.err, StartsWith("kad: error: "));
  EXPECT_THAT(put.err, HasSubstr("1001 bytes"));
  EXPECT_THAT(put.err, HasSubstr("1000"));

  Result stdin_put = RunKad({"put", "big", "--bootstrap", silent.address()},
                            std::string(2000, 'y'));
  EXPECT_EQ(stdin_put.exit_code, 2) << stdin_put;
  EXPECT_THAT(stdin_put.err,
              HasSubstr("value is 2000 bytes; the limit is 950 for a signed "
                        "record"));
  Result signed_put = RunKad({"put", "big", std::string(951, 'x'),
                              "--bootstrap", silent.address()});
  EXPECT_EQ(signed_put.exit_code, 2) << signed_put;
  EXPECT_THAT(signed_put.err, HasSubstr("the limit is 950"));
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  SilentPort silent;
  const std::vector<std::vector<std::string>> commands = {
      {"get", "k", "--bootstrap", "127.0.0.1:notaport"},
      {"get", "k", "--bootstrap", "127.0.0.1"},
      {"ping", "300.1.2.3"},
      {"get", "k", "--frobnicate", "--bootstrap", silent.address()},
      {"get", "--bootstrap", silent.address()},
      {"get", "k", "--timeout", "soon", "--bootstrap", silent.address()},
      {"put", "k", "v", "--ttl", "-5m", "--bootstrap", silent.address()},
      {"put", "k", "v", "--seq", "first", "--bootstrap", silent.address()},
      {"get", std::string(129, 'k'), "--bootstrap", silent.address()},
      {"lookup", "--id", "abc", "--bootstrap", silent.address()},
      {"node", "--listen", "localhost"},
      {"node", "--listen", "127.0.0.1:0", "--stats-allow", "10.0.0/8"},
      {"node", "--listen", "127.0.0.1:0", "--stats-allow", "10.1.0.0/8"},
      {"node", "--listen", "127.0.0.1:0", "--prefix-limit-exempt", "lan"},
      {"node", "--listen", "127.0.0.1:0", "--replicate-interval", "soon"},
      {"node", "--listen", "127.0.0.1:0", "--handoff-delay", "-1s"},
      {"node", "--listen", "127.0.0.1:0", "--commit-batch", "0"},
      {"node", "--listen", "127.0.0.1:0", "--commit-delay", "-1ms"},
      {"stats", "127.0.0.1:notaport"},
      {"stats"},
      {"frobnicate"},
  };
  for (const std::vector<std::string>& command : commands) {
    Result result = RunKad(command);
    EXPECT_EQ(result.exit_code, 2) << command[0] << " " << command[1] << "\n"
                                   << result;
    EXPECT_THAT(result.err, StartsWith("kad: error: ")) << result;
  }
}

TEST_F(CliTest, BadStatsAllowNamesTheFlagAndTheSubnet) {
  Result node = RunKad(
      {"node", "--listen", "127.0.0.1:0", "--stats-allow", "fd00::/129"});
  EXPECT_EQ(node.exit_code, 2) << node;
  EXPECT_EQ(node.err,
            "kad: error: bad --stats-allow: bad subnet 'fd00::/129': prefix "
            "length must be a number from 0 to 128 (expected e.g. 10.0.0.0/8 "
            "or fd00::/8)\n");
}

TEST_F(CliTest, BadPrefixLimitExemptNamesTheFlagAndTheSubnet) {
  Result node = RunKad({"node", "--listen", "127.0.0.1:0",
                        "--prefix-limit-exempt", "198.18.0.0/33"});
  EXPECT_EQ(node.exit_code, 2) << node;
  EXPECT_THAT(node.err, StartsWith("kad: error: bad --prefix-limit-exempt: "
                                   "bad subnet '198.18.0.0/33'"));
}

TEST_F(CliTest, UnreachableBootstrapExitsThreeWithinTheTimeout) {
  SilentPort silent;
  auto start = SteadyClock::now();
  Result get =
      RunKad({"get", "k", "--timeout", "3s", "--bootstrap", silent.address()});
  auto elapsed = SteadyClock::now() - start;
  EXPECT_EQ(get.exit_code, 3) << get;
  EXPECT_THAT(get.err, StartsWith("kad: error: "));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(CliTest, NoBootstrapExitsThree) {
  Result get = RunKad({"get", "k"});
  EXPECT_EQ(get.exit_code, 3) << get;
  EXPECT_THAT(get.err, HasSubstr("--bootstrap"));
}

TEST_F(CliTest, NodeExitsZeroOnSigterm) {
  ASSERT_NO_FATAL_FAILURE(StartNode({}));
  nodes_[0].process->Signal(SIGTERM);
  std::optional<int> code =
      nodes_[0].process->Wait(SteadyClock::now() + kStartDeadline);
  EXPECT_EQ(code, 0) << nodes_[0].process->err().text();
}

// Waits for a `kad overlay` to print its first "bootstrap <address>" line.
bool WaitForBootstrapLine(KadProcess& overlay) {
  return overlay.out().WaitFor(
      [](const std::string& text) {
        return !LineValue(text, "bootstrap ").empty();
      },
      SteadyClock::now() + kCommandDeadline);
}

TEST_F(CliTest, OverlayOfTwoHundredNodesAnswersPutAndGet) {
  std::unique_ptr<KadProcess> overlay =
      KadProcess::Start({"overlay", "--nodes", "200"});
  ASSERT_NE(overlay, nullptr);
  ASSERT_TRUE(WaitForBootstrapLine(*overlay)) << overlay->err().text();
  const std::string seed = LineValue(overlay->out().text(), "bootstrap ");
  Result put = RunKad({"put", "many", "nodes", "--json", "--bootstrap", seed});
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_EQ(ParseJson(put)["stored"], 20);
  Result get = RunKad({"get", "many", "--bootstrap", seed});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(get.out, "nodes");
  overlay->Signal(SIGTERM);
  EXPECT_EQ(overlay->Wait(SteadyClock::now() + kStartDeadline), 0)
      << overlay->err().text();
}

TEST_F(CliTest, OverlayOnThreeThreadsIsOneOverlay) {
  char path[] = "/tmp/kad-overlay-out.XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::unique_ptr<KadProcess> overlay = KadProcess::Start(
      {"overlay", "--nodes", "90", "--threads", "3", "--out", path});
  ASSERT_NE(overlay, nullptr);
  ASSERT_TRUE(WaitForBootstrapLine(*overlay)) << overlay->err().text();
  // Written before the bootstrap line, but read from another pipe: it may
  // reach us a moment later.
  EXPECT_TRUE(overlay->err().WaitFor(
      [](const std::string& text) {
        return absl::StrContains(text, "on 3 threads");
      },
      SteadyClock::now() + kCommandDeadline))
      << overlay->err().text();
  // --out lists every thread's nodes; the last line is the last thread's.
  std::ifstream file(path);
  std::vector<std::string> addresses;
  for (std::string id, address; file >> id >> address;) {
    addresses.push_back(address);
  }
  std::remove(path);
  ASSERT_EQ(addresses.size(), 90u);
  const std::string seed = LineValue(overlay->out().text(), "bootstrap ");
  Result put = RunKad({"put", "threads", "one", "--json", "--bootstrap", seed});
  ASSERT_EQ(put.exit_code, 0) << put;
  EXPECT_EQ(ParseJson(put)["stored"], 20);
  // Read through a node of the last thread: the threads' nodes know
  // each other.
  Result get = RunKad({"get", "threads", "--bootstrap", addresses.back()});
  ASSERT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(get.out, "one");
  overlay->Signal(SIGTERM);
  EXPECT_EQ(overlay->Wait(SteadyClock::now() + kStartDeadline), 0)
      << overlay->err().text();
}

TEST_F(CliTest, OverlayRefusesAnImpossibleNodeCount) {
  Result zero = RunKad({"overlay", "--nodes", "0"});
  EXPECT_EQ(zero.exit_code, 2) << zero;
}

// ---- kad node --data-dir ----------------------------------------------------

// A scratch directory removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/kad-cli-test.XXXXXX";
    path_ = mkdtemp(pattern) != nullptr ? pattern : "";
    EXPECT_FALSE(path_.empty());
  }
  ~ScratchDir() {
    std::string command = "rm -rf '" + path_ + "'";
    EXPECT_EQ(system(command.c_str()), 0);
  }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

bool WaitForFile(const std::string& path) {
  const auto deadline = SteadyClock::now() + kStartDeadline;
  while (access(path.c_str(), F_OK) != 0) {
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST_F(CliTest, DataDirKeepsIdRecordsAndContactsAcrossARestart) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  ScratchDir scratch;
  const std::string dir = scratch.Sub("node");
  ASSERT_NO_FATAL_FAILURE(
      StartNode({"--bootstrap", seed(), "--data-dir", dir}));
  RunningNode& durable = nodes_.back();
  const std::string id = durable.id;
  const std::string address = durable.address;
  Result put = RunKad({"put", "kept", "across restarts", "--bootstrap", address});
  ASSERT_EQ(put.exit_code, 0) << put;
  ASSERT_TRUE(WaitForFile(dir + "/contacts"));
  durable.process->Signal(SIGTERM);
  ASSERT_EQ(durable.process->Wait(SteadyClock::now() + kStartDeadline), 0);
  nodes_.pop_back();

  // Same address, no --bootstrap: same id, rejoins through saved contacts.
  ASSERT_NO_FATAL_FAILURE(StartNode({"--data-dir", dir}));
  // StartNode binds 127.0.0.1:0, so the address differs; the id must not.
  EXPECT_EQ(nodes_.back().id, id);
  EXPECT_TRUE(nodes_.back().process->err().WaitFor(
      [](const std::string& text) { return absl::StrContains(text, "joined: "); },
      SteadyClock::now() + kStartDeadline))
      << nodes_.back().process->err().text();
  // Its own records came back: with every other node gone it still serves.
  RunningNode restarted = std::move(nodes_.back());
  nodes_.clear();
  Result get = RunKad({"get", "kept", "--bootstrap", restarted.address});
  EXPECT_EQ(get.exit_code, 0) << get;
  EXPECT_EQ(get.out, "across restarts");
}

TEST_F(CliTest, AcknowledgedStoresSurviveKillNine) {
  ScratchDir scratch;
  const std::string dir = scratch.Sub("node");
  ASSERT_NO_FATAL_FAILURE(StartNode({"--data-dir", dir}));
  const std::string address = nodes_[0].address;
  std::vector<std::string> acknowledged;
  for (int i = 0; i < 40; ++i) {
    std::string key = absl::StrCat("storm-", i);
    Result put = RunKad({"put", key, "v" + key, "--json", "--bootstrap", address});
    ASSERT_EQ(put.exit_code, 0) << put;
    ASSERT_EQ(ParseJson(put)["stored"], 1);
    acknowledged.push_back(key);
  }
  // Kill it while more puts are on their way.
  std::vector<std::unique_ptr<KadProcess>> storm;
  for (int i = 40; i < 48; ++i) {
    storm.push_back(KadProcess::Start(
        {"put", absl::StrCat("storm-", i), "late", "--bootstrap", address,
         "--timeout", "3s"}));
  }
  nodes_[0].process->Signal(SIGKILL);
  nodes_[0].process->Wait(SteadyClock::now() + kStartDeadline);
  for (size_t j = 0; j < storm.size(); ++j) {
    std::optional<int> code =
        storm[j]->Wait(SteadyClock::now() + kCommandDeadline);
    if (code == 0) acknowledged.push_back(absl::StrCat("storm-", 40 + j));
  }
  nodes_.clear();
  ASSERT_NO_FATAL_FAILURE(StartNode({"--data-dir", dir}));
  for (const std::string& key : acknowledged) {
    Result get = RunKad({"get", key, "--bootstrap", nodes_[0].address});
    EXPECT_EQ(get.exit_code, 0) << key << ": " << get;
  }
}

// A UDP socket on 127.0.0.1 that speaks the wire protocol (as a read-only
// client) to one node.
class WireClient {
 public:
  explicit WireClient(const std::string& address)
      : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    absl::StatusOr<net::Endpoint> node = net::Endpoint::Parse(address);
    EXPECT_TRUE(node.ok()) << address;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(node.ok() ? node->port() : 0);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  }
  ~WireClient() { close(fd_); }

  void Send(uint32_t transaction, dht::Body body) {
    auto bytes = dht::EncodeMessage(
        dht::Message{transaction, std::nullopt, std::move(body)}, absl::Now());
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_EQ(send(fd_, bytes->data(), bytes->size(), 0),
              static_cast<ssize_t>(bytes->size()));
  }
  // Returns the next message that arrives within `wait`, if any.
  std::optional<dht::Message> Receive(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) return std::nullopt;
    uint8_t buffer[2048];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return std::nullopt;
    auto message = dht::DecodeMessage(
        std::span<const uint8_t>(buffer, static_cast<size_t>(n)), absl::Now());
    if (!message.ok()) return std::nullopt;
    return *std::move(message);
  }
  // Sends `body` until an answer to it arrives (at most 5 tries).
  std::optional<dht::Message> Ask(uint32_t transaction, const dht::Body& body) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      Send(transaction, body);
      while (auto answer = Receive(std::chrono::milliseconds(1000))) {
        if (answer->transaction_id == transaction) return answer;
      }
    }
    return std::nullopt;
  }

 private:
  int fd_;
};

std::string FloodKey(uint32_t i) { return absl::StrCat("flood-", i); }

TEST_F(CliTest, StoresAnsweredBeforeKillNineAreAllThereAfterRestart) {
  ScratchDir scratch;
  const std::string dir = scratch.Sub("node");
  ASSERT_NO_FATAL_FAILURE(StartNode({"--data-dir", dir}));
  WireClient client(nodes_[0].address);
  std::optional<dht::Message> nodes = client.Ask(1u << 31, dht::FindNode{});
  ASSERT_TRUE(nodes && std::holds_alternative<dht::Nodes>(nodes->body));
  const std::string token = std::get<dht::Nodes>(nodes->body).token;

  // Many stores in flight, so that they are committed in groups; kill the
  // node as soon as enough are answered, with the rest still in flight.
  constexpr uint32_t kStores = 3000, kWindow = 300, kKillAfter = 1000;
  std::vector<uint32_t> stored;
  uint32_t sent = 0;
  const auto deadline = SteadyClock::now() + kCommandDeadline;
  while (stored.size() < kKillAfter && SteadyClock::now() < deadline) {
    while (sent < kStores && sent - stored.size() < kWindow) {
      storage::Record record{FloodKey(sent), "v", 1,
                             absl::Now() + absl::Hours(1)};
      ASSERT_NO_FATAL_FAILURE(client.Send(sent++, dht::Store{record, token}));
    }
    std::optional<dht::Message> answer =
        client.Receive(std::chrono::milliseconds(1000));
    if (answer && std::holds_alternative<dht::Stored>(answer->body)) {
      stored.push_back(answer->transaction_id);
    }
  }
  nodes_[0].process->Signal(SIGKILL);
  nodes_[0].process->Wait(SteadyClock::now() + kStartDeadline);
  // Answers already on their way count as acknowledged too.
  while (auto answer = client.Receive(std::chrono::milliseconds(0))) {
    if (std::holds_alternative<dht::Stored>(answer->body)) {
      stored.push_back(answer->transaction_id);
    }
  }
  ASSERT_GE(stored.size(), kKillAfter);
  nodes_.clear();

  ASSERT_NO_FATAL_FAILURE(StartNode({"--data-dir", dir}));
  WireClient reader(nodes_[0].address);
  for (uint32_t i : stored) {
    std::optional<dht::Message> answer = reader.Ask(i, dht::FindValue{FloodKey(i)});
    ASSERT_TRUE(answer.has_value()) << "no answer for " << FloodKey(i);
    const auto* value = std::get_if<dht::Value>(&answer->body);
    ASSERT_NE(value, nullptr);
    EXPECT_TRUE(value->record.has_value()) << FloodKey(i) << " was lost";
  }
}

TEST_F(CliTest, DataDirInUseIsRefusedWithExitFour) {
  ScratchDir scratch;
  const std::string dir = scratch.Sub("node");
  ASSERT_NO_FATAL_FAILURE(StartNode({"--data-dir", dir}));
  Result second = RunKad({"node", "--listen", "127.0.0.1:0", "--data-dir", dir});
  EXPECT_EQ(second.exit_code, 4) << second;
  EXPECT_THAT(second.err, HasSubstr("in use by another kad node"));
}

TEST_F(CliTest, DataDirOfAnotherNodeIdIsRefusedWithExitTwo) {
  ScratchDir scratch;
  const std::string dir = scratch.Sub("node");
  ASSERT_NO_FATAL_FAILURE(StartNode({"--data-dir", dir}));
  const std::string id = nodes_[0].id;
  nodes_[0].process->Signal(SIGTERM);
  ASSERT_EQ(nodes_[0].process->Wait(SteadyClock::now() + kStartDeadline), 0);
  nodes_.clear();
  const std::string other(40, id[0] == '0' ? '1' : '0');
  Result refused = RunKad(
      {"node", "--listen", "127.0.0.1:0", "--data-dir", dir, "--id", other});
  EXPECT_EQ(refused.exit_code, 2) << refused;
  EXPECT_THAT(refused.err, HasSubstr("belongs to node " + id));
  // The id it was started with is no trouble.
  ASSERT_NO_FATAL_FAILURE(StartNode({"--data-dir", dir, "--id", id}));
  EXPECT_EQ(nodes_[0].id, id);
}

TEST_F(CliTest, UnusableDataDirsAreRefusedWithExitFour) {
  Result uncreatable =
      RunKad({"node", "--listen", "127.0.0.1:0", "--data-dir", "/dev/null/kad"});
  EXPECT_EQ(uncreatable.exit_code, 4) << uncreatable;
  EXPECT_THAT(uncreatable.err, HasSubstr("/dev/null/kad"));

  ScratchDir scratch;
  const std::string dir = scratch.Sub("node");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  std::ofstream(dir + "/node_id") << "written by something else\n";
  Result corrupt = RunKad({"node", "--listen", "127.0.0.1:0", "--data-dir", dir});
  EXPECT_EQ(corrupt.exit_code, 4) << corrupt;
  EXPECT_THAT(corrupt.err, HasSubstr("node_id"));
}

// The scenario of issue 10, against real nodes: a second key can neither
// change nor delete the first key's record, the owner's updates work, and
// stale or mismatched versions are conflicts (exit 5) naming the held seq.
class SignedRecordCliTest : public CliTest {
 protected:
  // A key file of its own in the test's temp dir.
  std::string KeyFile(const std::string& who) {
    return absl::StrCat(::testing::TempDir(), "/kad-signed-", getpid(), "-",
                        who);
  }
  std::string Keygen(const std::string& who) {
    std::remove(KeyFile(who).c_str());
    Result made = RunKad({"keygen", "--key", KeyFile(who)});
    EXPECT_EQ(made.exit_code, 0) << made;
    EXPECT_THAT(made.out, MatchesRegex("public-key [0-9a-f]{64}\n"));
    return made.out.substr(11, 64);
  }
};

TEST_F(SignedRecordCliTest, KeygenWritesAPrivateFileAndRefusesToOverwrite) {
  const std::string path = KeyFile("keygen");
  std::remove(path.c_str());
  Result first = RunKad({"keygen", "--key", path});
  ASSERT_EQ(first.exit_code, 0) << first;
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  Result again = RunKad({"keygen", "--key", path});
  EXPECT_EQ(again.exit_code, 2) << again;
  EXPECT_THAT(again.err, HasSubstr("--force"));
  Result forced = RunKad({"keygen", "--key", path, "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced;
  EXPECT_NE(forced.out, first.out);
  // KAD_KEY names the default file.
  std::remove(path.c_str());
  Result by_env = RunKad({"keygen"}, "", {absl::StrCat("KAD_KEY=", path)});
  ASSERT_EQ(by_env.exit_code, 0) << by_env;
  EXPECT_EQ(stat(path.c_str(), &info), 0);
  // A key others may read is refused, in one line.
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  Result loose =
      RunKad({"put", "n", "v", "--key", path, "--bootstrap", "127.0.0.1:9"});
  EXPECT_EQ(loose.exit_code, 2) << loose;
  EXPECT_THAT(loose.err, HasSubstr("readable by group or others"));
  EXPECT_EQ(std::count(loose.err.begin(), loose.err.end(), '\n'), 1);
}

TEST_F(SignedRecordCliTest, OnlyTheOwnerChangesItsRecord) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  const std::string alice = Keygen("alice");
  Keygen("mallory");
  const std::string alice_key = KeyFile("alice");
  const std::string mallory_key = KeyFile("mallory");
  // The squat below passes the record's address as an open name, and an
  // argument cannot hold a NUL byte: take the first name whose address
  // has none (one in 13 has).
  std::string name;
  std::string address_hex;
  for (int i = 0; address_hex.empty() ||
                  absl::HexStringToBytes(address_hex).find('\0') !=
                      std::string::npos;
       ++i) {
    ASSERT_LT(i, 20) << "every address held a NUL byte";
    name = absl::StrCat("alice-key-", i);
    Result put = RunKad({"put", name, "alice-v1", "--seq", "10", "--key",
                         alice_key, "--json", "--bootstrap", address(1)});
    ASSERT_EQ(put.exit_code, 0) << put;
    address_hex = ParseJson(put)["address"];
    EXPECT_EQ(ParseJson(put)["owner"], alice);
  }

  // Mallory's put under the same name lands in her own namespace: Alice's
  // record is untouched, whatever seq Mallory claims.
  Result mallory = RunKad({"put", name, "mallory-was-here", "--seq",
                           "18446744073709551615", "--key", mallory_key,
                           "--bootstrap", address(2)});
  ASSERT_EQ(mallory.exit_code, 0) << mallory;
  Result deleted = RunKad({"put", name, "", "--ttl", "3s", "--key",
                           mallory_key, "--bootstrap", address(2)});
  ASSERT_EQ(deleted.exit_code, 5) << deleted;  // Her own newer seq is held.
  Result got = RunKad({"get", name, "--owner", alice, "--bootstrap",
                       address(3)});
  ASSERT_EQ(got.exit_code, 0) << got;
  EXPECT_EQ(got.out, "alice-v1");
  Result by_address = RunKad({"get", address_hex, "--bootstrap", address(4)});
  ASSERT_EQ(by_address.exit_code, 0) << by_address;
  EXPECT_EQ(by_address.out, "alice-v1");
  // An open put at the same key can't displace it either.
  Result squat = RunKad({"put", "--open",
                         std::string(absl::HexStringToBytes(address_hex)),
                         "squat", "--bootstrap", address(2)});
  EXPECT_NE(squat.exit_code, 0) << squat;

  // The owner's update works...
  Result update = RunKad({"put", name, "alice-v2", "--seq", "11",
                          "--key", alice_key, "--bootstrap", address(5)});
  ASSERT_EQ(update.exit_code, 0) << update;
  got = RunKad({"get", name, "--key", alice_key, "--bootstrap",
                address(6)});
  ASSERT_EQ(got.exit_code, 0) << got;
  EXPECT_EQ(got.out, "alice-v2");
  // ...a stale seq and a wrong CAS are conflicts naming the held seq...
  Result stale = RunKad({"put", name, "old", "--seq", "9", "--key",
                         alice_key, "--bootstrap", address(5)});
  EXPECT_EQ(stale.exit_code, 5) << stale;
  EXPECT_THAT(stale.err, HasSubstr("seq 11"));
  Result wrong_cas = RunKad({"put", name, "v3", "--cas", "10", "--key",
                             alice_key, "--bootstrap", address(5)});
  EXPECT_EQ(wrong_cas.exit_code, 5) << wrong_cas;
  EXPECT_THAT(wrong_cas.err, HasSubstr("seq 11"));
  Result right_cas =
      RunKad({"put", name, "v3", "--cas", "11", "--key", alice_key,
              "--json", "--bootstrap", address(5)});
  ASSERT_EQ(right_cas.exit_code, 0) << right_cas;
  EXPECT_GT(ParseJson(right_cas)["seq"].get<uint64_t>(), 11u);
  // ...and a get naming the wrong owner finds nothing.
  Result wrong_owner = RunKad({"get", name, "--owner",
                               std::string(64, 'a'), "--bootstrap",
                               address(3)});
  EXPECT_EQ(wrong_owner.exit_code, 1) << wrong_owner;
}

TEST_F(SignedRecordCliTest, ImmutableRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(StartOverlay());
  Result put = RunKad({"put", "--immutable", "carved in stone", "--bootstrap",
                       address(1)});
  ASSERT_EQ(put.exit_code, 0) << put;
  const std::string hash = LineValue(put.out, "hash ");
  ASSERT_EQ(hash.size(), 40u) << put;
  Result got = RunKad({"get", "--hash", hash, "--bootstrap", address(7)});
  ASSERT_EQ(got.exit_code, 0) << got;
  EXPECT_EQ(got.out, "carved in stone");
  Result from_stdin =
      RunKad({"put", "--immutable", "-", "--bootstrap", address(2)},
             "carved in stone");
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin;
  EXPECT_EQ(LineValue(from_stdin.out, "hash "), hash);
}

}  // namespace
}  // namespace kad

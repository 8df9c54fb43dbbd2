// kad_store_flood: how many stores per second one running `kad node`
// acknowledges, and how long its pings take meanwhile.
//
// Run: build/bench/kad_store_flood HOST:PORT [stores=50000] [window=256]
//
// One UDP socket asks the node for a write token (find_node, as a
// read-only client), then sends `stores` store requests of distinct open
// records (100-byte values, one hour TTL) keeping at most `window`
// unanswered, and counts the answers: stored, refused (error), or lost (no
// answer within a second). A second socket, on its own thread, pings the
// node every 5 ms for as long as the flood runs, one ping at a time.
//
// Prints one JSON object: the stores acknowledged per second (from the
// first store sent to the last answer) and the ping round trips during the
// flood (p50, p99, max in ms; a ping unanswered after 2 s counts as lost).
// Figures only: nothing is asserted. Real sockets on the address given;
// point it at 127.0.0.1 (docs/BENCH.md, "Durable stores").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "dht/message.h"
#include "dht/wire_codec.h"
#include "net/endpoint.h"

namespace {

using kad::dht::Message;
using Clock = std::chrono::steady_clock;

constexpr int kValueBytes = 100;
constexpr auto kPingInterval = std::chrono::milliseconds(5);
constexpr int kPingTimeoutMs = 2000;
constexpr int kStoreTimeoutMs = 1000;

// A UDP socket connected to `target`; -1 on failure.
int ConnectedSocket(const sockaddr_in& target) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int buffer = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool Send(int fd, const Message& message) {
  auto bytes = kad::dht::EncodeMessage(message, absl::Now());
  return bytes.ok() &&
         send(fd, bytes->data(), bytes->size(), 0) ==
             static_cast<ssize_t>(bytes->size());
}

// Waits up to `timeout_ms` for a datagram and decodes it.
std::optional<Message> Receive(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
  uint8_t buffer[2048];
  const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
  if (n <= 0) return std::nullopt;
  auto message = kad::dht::DecodeMessage(
      std::span<const uint8_t>(buffer, static_cast<size_t>(n)), absl::Now());
  if (!message.ok()) return std::nullopt;
  return *std::move(message);
}

// Asks for a write token; nullopt if the node never answers.
std::optional<std::string> FetchToken(int fd) {
  for (uint32_t attempt = 0; attempt < 5; ++attempt) {
    if (!Send(fd, Message{attempt, std::nullopt,
                          kad::dht::FindNode{kad::dht::NodeId()}})) {
      return std::nullopt;
    }
    if (auto reply = Receive(fd, 1000)) {
      if (const auto* nodes = std::get_if<kad::dht::Nodes>(&reply->body)) {
        return nodes->token;
      }
    }
  }
  return std::nullopt;
}

struct PingFigures {
  std::vector<double> rtt_ms;
  int lost = 0;
};

// Pings every kPingInterval until `stop`.
PingFigures PingWhile(const sockaddr_in& target, const std::atomic<bool>& stop) {
  PingFigures figures;
  const int fd = ConnectedSocket(target);
  if (fd < 0) return figures;
  for (uint32_t id = 1; !stop.load(); ++id) {
    const auto sent = Clock::now();
    if (!Send(fd, Message{id, std::nullopt, kad::dht::Ping{}})) break;
    bool answered = false;
    while (!answered) {
      const int waited = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                sent)
              .count());
      if (waited >= kPingTimeoutMs) break;
      auto reply = Receive(fd, kPingTimeoutMs - waited);
      if (!reply) break;
      answered = reply->transaction_id == id;
    }
    if (answered) {
      figures.rtt_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - sent)
              .count());
    } else {
      ++figures.lost;
    }
    std::this_thread::sleep_until(sent + kPingInterval);
  }
  close(fd);
  return figures;
}

struct StoreFigures {
  int stored = 0, refused = 0, lost = 0;
  double seconds = 0;
};

StoreFigures Flood(int fd, const std::string& token, int stores, int window) {
  StoreFigures figures;
  const std::string value(kValueBytes, 'v');
  const std::string run = absl::StrCat(getpid(), "-", absl::ToUnixMicros(absl::Now()));
  const auto start = Clock::now();
  int sent = 0, outstanding = 0;
  while (sent < stores || outstanding > 0) {
    while (sent < stores && outstanding < window) {
      kad::storage::Record record{absl::StrCat("flood-", run, "-", sent), value,
                                  1, absl::Now() + absl::Hours(1)};
      if (!Send(fd, Message{static_cast<uint32_t>(sent), std::nullopt,
                            kad::dht::Store{record, token}})) {
        break;
      }
      ++sent;
      ++outstanding;
    }
    auto reply = Receive(fd, kStoreTimeoutMs);
    if (!reply) {  // Whatever is still out is lost.
      figures.lost += outstanding;
      outstanding = 0;
      continue;
    }
    if (std::holds_alternative<kad::dht::Stored>(reply->body)) {
      ++figures.stored;
    } else if (std::holds_alternative<kad::dht::Error>(reply->body)) {
      ++figures.refused;
    } else {
      continue;
    }
    outstanding = std::max(0, outstanding - 1);
  }
  figures.seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  return figures;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(p / 100 * values.size() + 0.999999);
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  int stores = 50'000, window = 256;
  auto target = argc > 1 ? kad::net::Endpoint::Parse(argv[1])
                         : absl::InvalidArgumentError("no target");
  if (!target.ok() || target->family() != kad::net::Family::kIpv4 ||
      (argc > 2 && !absl::SimpleAtoi(argv[2], &stores)) ||
      (argc > 3 && !absl::SimpleAtoi(argv[3], &window)) || stores < 1 ||
      window < 1) {
    std::fprintf(stderr,
                 "usage: kad_store_flood IPV4:PORT [stores=50000] "
                 "[window=256]\n");
    return 2;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(target->port());
  std::copy_n(target->address().data(), 4,
              reinterpret_cast<uint8_t*>(&address.sin_addr));
  const int fd = ConnectedSocket(address);
  std::optional<std::string> token =
      fd < 0 ? std::nullopt : FetchToken(fd);
  if (!token) {
    std::fprintf(stderr, "no answer from %s\n", argv[1]);
    return 3;
  }
  std::atomic<bool> stop{false};
  PingFigures pings;
  std::thread pinger([&] { pings = PingWhile(address, stop); });
  const StoreFigures figures = Flood(fd, *token, stores, window);
  stop = true;
  pinger.join();
  close(fd);
  std::printf(
      "{\"stores\": %d, \"window\": %d, \"stored\": %d, \"refused\": %d, "
      "\"lost\": %d, \"seconds\": %.3f, \"stores_per_second\": %.0f, "
      "\"pings\": %zu, \"pings_lost\": %d, \"ping_ms_p50\": %.2f, "
      "\"ping_ms_p99\": %.2f, \"ping_ms_max\": %.2f}\n",
      stores, window, figures.stored, figures.refused, figures.lost,
      figures.seconds, figures.stored / figures.seconds, pings.rtt_ms.size(),
      pings.lost, Percentile(pings.rtt_ms, 50), Percentile(pings.rtt_ms, 99),
      Percentile(pings.rtt_ms, 100));
  return 0;
}

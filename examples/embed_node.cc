// embed_node: a program that embeds a kad node, as an embedder would.
//
//   embed_node BOOTSTRAP_HOST:PORT [KEY VALUE] [DATA_DIR]
//
// Joins the overlay through BOOTSTRAP, puts KEY=VALUE (default
// "embedded-example" = "hello from an embedded node"), gets it back
// through the overlay and prints both results. Exits 0 when the value read
// back is the value put, 1 otherwise.
//
// It uses only the installed package: kad::runtime (the node and its
// stores, joining, an optional data dir) and kad::net_uv (a libuv loop,
// clock and UDP socket). Build it with find_package(kad) (CMakeLists.txt
// here) or with `pkg-config --cflags --libs kad`.
#include <kad/dht/node.h>
#include <kad/net/resolve.h>
#include <kad/net/udp_transport.h>
#include <kad/net/uv_clock.h>
#include <kad/net/uv_loop.h>
#include <kad/runtime/data_dir.h>
#include <kad/runtime/node_runtime.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace {

using kad::dht::Node;

// Every call on the node is asynchronous: it takes a callback that the
// node calls exactly once, later, from the loop. This helper starts one
// call and runs the loop until its callback has fired (or `timeout`).
template <typename T, typename Start>
absl::StatusOr<T> RunToCompletion(kad::net::UvLoop& loop, Start start,
                                  absl::Duration timeout = absl::Seconds(10)) {
  std::optional<absl::StatusOr<T>> result;
  start([&result](absl::StatusOr<T> r) { result = std::move(r); });
  if (!loop.RunUntil([&] { return result.has_value(); }, timeout)) {
    return absl::DeadlineExceededError("timed out");
  }
  return *std::move(result);
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "embed_node: %s: %s\n", what.c_str(),
               status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3 && argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP_HOST:PORT [KEY VALUE] [DIR]\n",
                 argv[0]);
    return 2;
  }
  const std::string key = argc >= 4 ? argv[2] : "embedded-example";
  const std::string value = argc >= 4 ? argv[3] : "hello from an embedded node";

  // 1. What the node runs on: a libuv loop, a clock on it, a UDP socket.
  //    Destroyed in reverse order: the runtime (and node) first, the loop
  //    last.
  absl::StatusOr<std::unique_ptr<kad::net::UvLoop>> loop =
      kad::net::UvLoop::Create();
  if (!loop.ok()) return Fail("loop", loop.status());
  kad::net::UvClock clock((*loop)->raw());
  absl::StatusOr<std::unique_ptr<kad::net::UdpTransport>> socket =
      kad::net::UdpTransport::Create((*loop)->raw(),
                                     kad::net::Endpoint::Ipv4({}, 0));
  if (!socket.ok()) return Fail("bind", socket.status());

  // 2. The node's runtime: the node, its stores and the join. Default
  //    NodeOptions are the protocol's defaults (k = 20, alpha = 3). With a
  //    data dir (argv[4] or argv[2]) the node keeps its id, records and
  //    contacts there across restarts; without one, everything is in memory.
  kad::runtime::NodeRuntimeOptions options;
  absl::StatusOr<std::vector<kad::net::Endpoint>> seeds =
      kad::net::Resolve(argv[1]);
  if (!seeds.ok()) return Fail("bootstrap address", seeds.status());
  options.seeds = *std::move(seeds);
  std::unique_ptr<kad::runtime::DataDir> dir;
  if (argc == 3 || argc == 5) {
    absl::StatusOr<std::unique_ptr<kad::runtime::DataDir>> opened =
        kad::runtime::DataDir::Open(argv[argc - 1]);
    if (!opened.ok()) return Fail("data dir", opened.status());
    dir = *std::move(opened);
  }
  absl::StatusOr<std::unique_ptr<kad::runtime::NodeRuntime>> runtime =
      kad::runtime::NodeRuntime::Create(std::move(options), **socket, clock,
                                        std::move(dir));
  if (!runtime.ok()) return Fail("node", runtime.status());
  Node& node = (*runtime)->node();
  std::printf("node %s on %s\n", node.id().ToHex().c_str(),
              node.endpoint().ToString().c_str());

  // 3. Join: Start() bootstraps through the seeds (retrying with backoff
  //    until one answers) and keeps the node maintained from then on.
  (*runtime)->Start();
  if (!(*loop)->RunUntil([&] { return (*runtime)->joined(); },
                         absl::Seconds(10))) {
    return Fail("join", absl::UnavailableError("no bootstrap node answered"));
  }
  std::printf("joined: %zu contacts\n", node.routing_table().size());

  // 4. Put: stores the record on the k nodes closest to its key. seq
  //    orders versions (here the wall clock in microseconds, as `kad put`).
  kad::storage::Record record{
      .key = key,
      .value = value,
      .seq = static_cast<uint64_t>(absl::ToUnixMicros(absl::Now())),
      .expires = absl::Now() + kad::storage::kDefaultTtl};
  absl::StatusOr<kad::dht::PutResult> put =
      RunToCompletion<kad::dht::PutResult>(
          **loop, [&](auto done) { node.Put(record, std::move(done)); });
  if (!put.ok()) return Fail("put", put.status());
  std::printf("put %s: stored on %d of %d nodes\n", key.c_str(), put->stored,
              put->attempted);

  // 5. Get: looks the key up and returns the newest version replicas hold.
  absl::StatusOr<kad::dht::GetResult> got =
      RunToCompletion<kad::dht::GetResult>(
          **loop, [&](auto done) { node.Get(key, std::move(done)); });
  if (!got.ok()) return Fail("get", got.status());
  std::printf("get %s: \"%s\" from %d replicas\n", key.c_str(),
              got->record.value.c_str(), got->replicas);
  return got->record.value == value ? 0 : 1;
}

#include "cli/session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/arguments.h"
#include "cli/output.h"
#include "spdlog/spdlog.h"

namespace kad::cli {
namespace {

// Returns the wildcard address of `family`, with port 0. An IPv6 socket is
// dual-stack, so it reaches IPv4 peers too.
net::Endpoint WildcardFor(net::Family family) {
  return family == net::Family::kIpv6 ? net::Endpoint::Ipv6({}, 0)
                                      : net::Endpoint::Ipv4({}, 0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> Session::Create(
    SessionOptions options) {
  auto session = std::unique_ptr<Session>(new Session());
  absl::StatusOr<std::unique_ptr<net::UvLoop>> loop = net::UvLoop::Create();
  if (!loop.ok()) return loop.status();
  session->loop_ = *std::move(loop);
  session->clock_ = std::make_unique<net::UvClock>(session->loop_->raw());
  absl::StatusOr<std::unique_ptr<net::UdpTransport>> transport =
      net::UdpTransport::Create(session->loop_->raw(), options.bind);
  if (!transport.ok()) return transport.status();
  session->transport_ = *std::move(transport);
  absl::StatusOr<std::unique_ptr<runtime::NodeRuntime>> node_runtime =
      runtime::NodeRuntime::Create(std::move(options.runtime),
                                   *session->transport_, *session->clock_,
                                   std::move(options.data_dir));
  if (!node_runtime.ok()) return node_runtime.status();
  session->runtime_ = *std::move(node_runtime);
  return session;
}

Session::~Session() = default;

absl::Status Session::TimedOut(const Budget& budget) {
  return absl::DeadlineExceededError(
      absl::StrCat("timed out after ", absl::FormatDuration(budget.total),
                   " (see --timeout)"));
}

absl::StatusOr<std::unique_ptr<Session>> ClientSession(net::Family family,
                                                      int disjoint_paths) {
  SessionOptions options;
  options.bind = WildcardFor(family);
  options.runtime.node.read_only = true;
  options.runtime.node.disjoint_paths = disjoint_paths;
  return Session::Create(std::move(options));
}

absl::StatusOr<std::unique_ptr<Session>> JoinAsClient(
    const std::vector<std::string>& bootstrap, const Budget& budget,
    int disjoint_paths) {
  absl::StatusOr<std::vector<net::Endpoint>> seeds = ResolveAll(bootstrap);
  if (!seeds.ok()) return seeds.status();
  if (seeds->empty()) {
    return absl::UnavailableError(absl::StrCat(
        "no bootstrap node given: use --bootstrap HOST:PORT or set ",
        kBootstrapEnv));
  }
  bool all_ipv6 =
      std::all_of(seeds->begin(), seeds->end(), [](const net::Endpoint& seed) {
        return seed.family() == net::Family::kIpv6;
      });
  absl::StatusOr<std::unique_ptr<Session>> session =
      ClientSession(all_ipv6 ? net::Family::kIpv6 : net::Family::kIpv4,
                    disjoint_paths);
  if (!session.ok()) return session.status();
  std::string seed_list = absl::StrJoin(bootstrap, ", ");
  absl::StatusOr<int> joined =
      (*session)->Await<int>(budget, [&](dht::Node::Callback<int> done) {
        (*session)->node().Bootstrap(*seeds, std::move(done));
      });
  if (!joined.ok()) {
    return Annotate(
        joined.status(),
        absl::StrCat("no bootstrap node answered (", seed_list, ")"));
  }
  spdlog::debug("joined: {} contacts", *joined);
  return session;
}

}  // namespace kad::cli

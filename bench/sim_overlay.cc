#include "bench/sim_overlay.h"

#include <algorithm>
#include <cassert>
#include <utility>
#include <vector>

#include "bench/oracle_join.h"

namespace kad::bench {
namespace {

// Events between calls of GrowTo's keep_going.
constexpr uint64_t kEventsPerCheck = 4096;
// Nodes added by OracleGrowTo between calls of its keep_going.
constexpr size_t kNodesPerCheck = 4096;

}  // namespace

net::SimNetworkOptions SimOverlay::Seeded(net::SimNetworkOptions network,
                                          uint64_t seed) {
  network.seed = seed ^ 0x6e6574776f726b;  // "network"
  network.link.seed = seed ^ 0x6c696e6b;   // "link"
  return network;
}

SimOverlay::SimOverlay(SimOverlayOptions options)
    : options_(std::move(options)),
      gen_(options_.seed),
      lanes_(options_.lanes),
      network_(lanes_, Seeded(options_.network, options_.seed)) {
  assert(options_.lanes == 1 || options_.hook == nullptr);
  // The internet's per-source limits would throttle the protocol under
  // study: simulated hosts are packed 254 to a /24 and a benchmark drives
  // thousands of lookups a second. Nodes added with explicit options
  // (AddNode(options), JoinOneByOne(n, options)) keep theirs.
  options_.node.admission.reset();
  options_.node.reply_budget.reset();
}

dht::Node& SimOverlay::AddNode() {
  dht::NodeOptions node_options = options_.node;
  node_options.id.reset();
  node_options.seed = gen_();
  return Add(node_options);
}

dht::Node& SimOverlay::AddNode(dht::NodeOptions options) {
  if (!options.seed) options.seed = gen_();
  return Add(options);
}

net::Subnet SimIpv4Hosts() { return *net::Subnet::Parse("10.0.0.0/8"); }

dht::Node& SimOverlay::Add(const dht::NodeOptions& given) {
  dht::NodeOptions options = given;
  const net::Subnet hosts = SimIpv4Hosts();
  if (options_.ipv4_hosts_distinct &&
      std::find(options.prefix_limit_exempt.begin(),
                options.prefix_limit_exempt.end(),
                hosts) == options.prefix_limit_exempt.end()) {
    options.prefix_limit_exempt.push_back(hosts);
  }
  const size_t index = members_.size();
  SimMember member;
  MemberHook::Plan plan;
  if (options_.hook != nullptr) {
    member.transport = network_.NewTransport(options_.hook->FamilyOf(index));
    plan = options_.hook->PlanMember(index, *member.transport);
  } else {
    member.transport = network_.NewTransport();
  }
  if (plan.id) options.id = plan.id;
  member.wrapper = std::move(plan.wrapper);
  net::Transport& transport = member.wrapper != nullptr
                                  ? *member.wrapper
                                  : static_cast<net::Transport&>(
                                        *member.transport);
  member.store = std::make_unique<storage::MemoryStore>();
  member.node = std::make_unique<dht::Node>(
      options, transport, network_.clock_of(*member.transport), *member.store);
  member.node->Start();
  members_.push_back(std::move(member));
  if (options_.hook != nullptr) options_.hook->Made(index, members_.back());
  return *members_.back().node;
}

int SimOverlay::JoinOneByOne(size_t n) {
  dht::NodeOptions options = options_.node;
  options.id.reset();
  options.seed.reset();
  return JoinOneByOne(n, options);
}

int SimOverlay::JoinOneByOne(size_t n, const dht::NodeOptions& options) {
  int failures = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<net::Endpoint> seeds;
    if (!members_.empty()) seeds.push_back(members_[0].node->endpoint());
    dht::Node& node = AddNode(options);
    const absl::StatusOr<int> joined = Run<int>(
        [&](auto done) { node.Bootstrap(std::move(seeds), std::move(done)); });
    if (!joined.ok()) ++failures;
  }
  return failures;
}

int SimOverlay::GrowTo(size_t n) {
  return GrowTo(n, [](size_t) { return true; });
}

int SimOverlay::GrowTo(size_t n,
                       absl::FunctionRef<bool(size_t settled)> keep_going) {
  if (members_.empty() && n > 0) AddNode();  // The first needs no bootstrap.
  bool stopped = false;
  while (members_.size() < n && !stopped) {
    const size_t joined = members_.size();
    const size_t wave = std::min({joined, n - joined, kMaxWave});
    bootstraps_outstanding_ = static_cast<int>(wave);
    const int wave_id = ++waves_;
    for (size_t i = 0; i < wave; ++i) {
      const net::Endpoint seed = members_[gen_() % joined].node->endpoint();
      AddNode().Bootstrap({seed}, [this, wave_id](absl::StatusOr<int> joined) {
        if (wave_id != waves_) return;  // Finished after its deadline.
        --bootstraps_outstanding_;
        if (!joined.ok()) ++bootstrap_failures_;
      });
    }
    uint64_t checked = lanes_.events_run();
    const auto keep_running = [&] {
      if (lanes_.events_run() - checked >= kEventsPerCheck) {
        checked = lanes_.events_run();
        if (!keep_going(members_.size() - bootstraps_outstanding_)) {
          stopped = true;
        }
      }
      return bootstraps_outstanding_ > 0 && !stopped;
    };
    // With one lane, RunInWindows is the plain merged run.
    lanes_.RunInWindows(keep_running, lanes_.Now() + absl::Minutes(10),
                        network_.link_model().MinOneWayDelay(),
                        options_.threads);
    // Bootstraps still running after the deadline count as failures.
    bootstrap_failures_ += bootstraps_outstanding_;
    bootstraps_outstanding_ = 0;
  }
  return bootstrap_failures_;
}

bool SimOverlay::OracleGrowTo(
    size_t n, absl::FunctionRef<bool(size_t done)> keep_going) {
  const size_t target = std::max(n, members_.size());
  members_.reserve(target);
  while (members_.size() < target) {
    if (members_.size() % kNodesPerCheck == 0 &&
        !keep_going(members_.size())) {
      return false;
    }
    AddNode();
  }
  std::vector<dht::Node*> nodes;
  nodes.reserve(members_.size());
  for (SimMember& member : members_) nodes.push_back(member.node.get());
  const size_t filled =
      OracleJoin(nodes, options_.node.bucket_size, gen_(),
                 [&](size_t done) { return keep_going(target + done); });
  return filled == nodes.size();
}

bool SimOverlay::RunUntil(absl::FunctionRef<bool()> done) {
  return lanes_.RunWhile([&] { return !done(); },
                         lanes_.Now() + absl::Hours(24));
}

void SimOverlay::Crash(size_t i) {
  network_.Crash(members_[i].node->endpoint());
}

}  // namespace kad::bench

#include "dht/node.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dht/node_impl.h"
#include "dht/release_if_sparse.h"
#include "dht/wire_codec.h"

namespace kad::dht {
namespace {

// Strangers that query us are pinged before they may enter the table; this
// bounds how many such probes run at once.
constexpr size_t kMaxConcurrentProbes = 64;
// Expired records removed per maintenance pass.
constexpr size_t kExpiryBatch = 1000;
// How often stale buckets are looked for (each is refreshed at most once
// per bucket_refresh_interval).
constexpr absl::Duration kRefreshCheckPeriod = absl::Minutes(1);
// Pings per bootstrap seed before it counts as unreachable, and attempts
// at the joining self-lookup.
constexpr int kSeedPingAttempts = 3;

uint64_t SeedOf(const NodeOptions& options) {
  if (options.seed) return *options.seed;
  std::random_device device;
  return (uint64_t{device()} << 32) ^ device();
}

RoutingTableOptions TableOptions(const NodeOptions& options) {
  RoutingTableOptions table;
  table.bucket_size = options.bucket_size;
  table.refresh_interval = options.bucket_refresh_interval;
  return table;
}

}  // namespace

// ---- Node: thin forwarding to Impl ----------------------------------------

Node::Node(NodeOptions options, net::Transport& transport, net::Clock& clock,
           storage::RecordStore& store,
           storage::PublicationStore* publications)
    : transport_(transport) {
  options.seed = SeedOf(options);
  std::mt19937_64 id_gen(*options.seed ^ 0x6b61642d6e6f6465);  // "kad-node"
  id_ = options.id.value_or(NodeId::Random(id_gen));
  routing_table_ = std::make_unique<RoutingTable>(id_, TableOptions(options),
                                                  clock.Now());
  impl_ = std::make_unique<Impl>(*this, std::move(options), clock, store,
                                 publications);
}

Node::~Node() = default;

void Node::Start() { impl_->Start(); }
void Node::Bootstrap(std::vector<net::Endpoint> seeds, Callback<int> done) {
  impl_->Bootstrap(std::move(seeds), std::move(done));
}
void Node::Ping(const net::Endpoint& endpoint, Callback<PingResult> done) {
  impl_->Ping(endpoint, std::move(done));
}
void Node::FindNode(const NodeId& target, Callback<LookupResult> done) {
  impl_->FindNode(target, std::move(done));
}
void Node::Put(storage::Record record, Callback<PutResult> done) {
  impl_->Put(std::move(record), std::move(done));
}
void Node::Get(std::string key, Callback<GetResult> done) {
  impl_->Get(std::move(key), std::move(done));
}
void Node::AdoptContacts(std::span<const Contact> contacts) {
  impl_->AdoptContacts(contacts);
}
void Node::Stats(const net::Endpoint& endpoint, Callback<StatsReport> done) {
  impl_->Stats(endpoint, std::move(done));
}

// ---- Impl: dispatch and serving --------------------------------------------

Node::Impl::Impl(Node& node, NodeOptions options, net::Clock& clock,
                 storage::RecordStore& store,
                 storage::PublicationStore* publications)
    : node_(node),
      options_(std::move(options)),
      clock_(clock),
      store_(store),
      gen_(*options_.seed),
      tokens_(gen_, options_.token_rotation, clock.Now()),
      rpc_(RpcOptions{{options_.initial_rpc_timeout, options_.min_rpc_timeout,
                       options_.max_rpc_timeout},
                      options_.rpc_give_up_after_timeouts,
                      options_.read_only ? std::nullopt
                                         : std::optional<NodeId>(node.id_)},
           node.transport_, clock, node.stats_, gen_),
      stats_service_(options_.stats_allow, clock.Now(), *node.routing_table_,
                     store, node.stats_, lookup_latency_),
      handler_(options_.bucket_size, *node.routing_table_, store, tokens_,
               node.stats_, stats_service_),
      replicator_(node.id_, options_.bucket_size),
      own_publications_(
          publications ? nullptr
                       : std::make_unique<storage::MemoryPublicationStore>()),
      publications_(publications ? *publications : *own_publications_),
      timers_(clock) {}

Node::Impl::~Impl() {
  node_.transport_.SetReceiveHandler(
      [](const net::Endpoint&, std::span<const uint8_t>) {});
}

void Node::Impl::Start() {
  node_.transport_.SetReceiveHandler(
      [this](const net::Endpoint& from, std::span<const uint8_t> bytes) {
        OnDatagram(from, bytes);
      });
  Every(options_.expiry_interval,
        [this] { store_.ExpireSome(clock_.Now(), kExpiryBatch); });
  if (options_.read_only) return;
  Every(kRefreshCheckPeriod, [this] { RefreshStaleBuckets(); });
  Every(options_.republish_interval, [this] { Republish(); });
  ScheduleReplication();
}

void Node::Impl::Every(absl::Duration period, absl::AnyInvocable<void()> fn) {
  if (period == absl::InfiniteDuration()) return;  // Turned off.
  timers_.Schedule(period, [this, period, fn = std::move(fn)]() mutable {
    fn();
    Every(period, std::move(fn));
  });
}

void Node::Impl::OnDatagram(const net::Endpoint& from,
                            std::span<const uint8_t> bytes) {
  NodeStats& stats = node_.stats_;
  ++stats.datagrams_in;
  stats.bytes_in += bytes.size();
  auto message = DecodeMessage(bytes, clock_.Now());
  if (!message.ok()) {
    ++stats.malformed_in;
    spdlog::debug("dropped datagram from {}: {}", from.ToString(),
                  message.status().ToString());
    return;
  }
  ++stats.messages_in[static_cast<size_t>(message->type())];
  if (message->is_request()) {
    if (!options_.read_only) Serve(from, *message);
    return;
  }
  rpc_.OnResponse(from, *std::move(message), bytes.size());
}

void Node::Impl::Serve(const net::Endpoint& from, const Message& request) {
  const absl::Time now = clock_.Now();
  Message response{request.transaction_id, node_.id_,
                   handler_.Handle(request, from, now)};
  if (const auto* offer = std::get_if<Offer>(&request.body)) {
    if (const auto* reply = std::get_if<OfferReply>(&response.body)) {
      replicator_.NoteOffered(*offer, *reply);
    }
  }
  if (absl::Status sent =
          SendMessage(node_.transport_, node_.stats_, from, response, now);
      !sent.ok()) {
    spdlog::debug("cannot answer {}: {}", from.ToString(), sent.ToString());
  }
  if (!request.sender || *request.sender == node_.id_) return;
  Contact contact{*request.sender, from};
  if (!node_.routing_table_->OnRequest(contact, now)) ProbeStranger(contact);
}

void Node::Impl::ProbeStranger(const Contact& contact) {
  // A node enters the table only after answering us: ping it first.
  if (!node_.routing_table_->WouldAdmit(contact.id) ||
      probing_.size() >= kMaxConcurrentProbes ||
      !probing_.insert(contact.id).second) {
    return;
  }
  Request(contact.endpoint, contact.id, dht::Ping{},
          {nullptr, [this, id = contact.id](absl::StatusOr<Message>) {
             probing_.erase(id);
             ReleaseIfSparse(probing_);
           }});
}

void Node::Impl::Request(const net::Endpoint& to,
                         std::optional<NodeId> expected, Body body,
                         RpcHandlers handlers) {
  handlers.on_done = [this, to, expected, done = std::move(handlers.on_done)](
                         absl::StatusOr<Message> outcome) mutable {
    NoteOutcome(to, expected, outcome);
    if (done) done(std::move(outcome));
  };
  rpc_.Send(to, expected, std::move(body), std::move(handlers));
}

void Node::Impl::NoteOutcome(const net::Endpoint& to,
                             const std::optional<NodeId>& expected,
                             const absl::StatusOr<Message>& outcome) {
  RoutingTable& table = *node_.routing_table_;
  const absl::Time now = clock_.Now();
  if (!outcome.ok()) {
    if (expected) table.OnFailure(*expected, now);
    return;
  }
  if (!outcome->sender || *outcome->sender == node_.id_) return;
  RoutingTable::Update update = table.OnResponse({*outcome->sender, to}, now);
  if (update.kind == RoutingTable::Update::Kind::kAdded) {
    OnContactAdded({*outcome->sender, to});
  }
  if (update.ping_to_evict) {
    // Ping-before-evict: the outcome of this ping keeps or replaces it.
    const Contact& stale = *update.ping_to_evict;
    Request(stale.endpoint, stale.id, dht::Ping{}, {});
  }
}

void Node::Impl::AdoptContacts(std::span<const Contact> contacts) {
  const absl::Time now = clock_.Now();
  for (const Contact& contact : contacts) {
    if (contact.id != node_.id_) node_.routing_table_->OnResponse(contact, now);
  }
}

// ---- Impl: ping, stats and bootstrap ---------------------------------------

void Node::Impl::Ping(const net::Endpoint& endpoint, Callback<PingResult> done) {
  const absl::Time sent = clock_.Now();
  Request(endpoint, std::nullopt, dht::Ping{},
          {nullptr, [this, sent, done = std::move(done)](
                        absl::StatusOr<Message> answer) mutable {
             if (!answer.ok()) return done(answer.status());
             if (!answer->sender) {
               return done(absl::UnavailableError("answer carried no node id"));
             }
             done(PingResult{*answer->sender, clock_.Now() - sent});
           }});
}

void Node::Impl::Stats(const net::Endpoint& endpoint,
                       Callback<StatsReport> done) {
  Request(endpoint, std::nullopt, dht::Stats{},
          {nullptr, [endpoint, done = std::move(done)](
                        absl::StatusOr<Message> answer) mutable {
             done(ToStatsReport(endpoint, std::move(answer)));
           }});
}

void Node::Impl::Bootstrap(std::vector<net::Endpoint> seeds,
                           Callback<int> done) {
  if (bootstrap_) {
    return FailSoon(std::move(done), absl::FailedPreconditionError(
                                         "a bootstrap is already running"));
  }
  if (!seeds.empty()) bootstrap_seeds_ = seeds;
  bootstrap_ = BootstrapState{static_cast<int>(seeds.size()), 0, seeds,
                              std::move(done)};
  if (seeds.empty()) {
    timers_.Schedule(absl::ZeroDuration(), [this] { FinishBootstrap(); });
    return;
  }
  for (const net::Endpoint& seed : seeds) PingSeed(seed, 1);
}

void Node::Impl::PingSeed(const net::Endpoint& seed, int attempt) {
  // Seeds are pinged a few times: one lost datagram must not fail a join.
  Request(seed, std::nullopt, dht::Ping{},
          {nullptr, [this, seed, attempt](absl::StatusOr<Message> answer) {
             const bool answered = answer.ok() && answer->sender.has_value();
             if (!answered && attempt < kSeedPingAttempts) {
               return PingSeed(seed, attempt + 1);
             }
             OnBootstrapPing(answered);
           }});
}

void Node::Impl::OnBootstrapPing(bool answered) {
  bootstrap_->answered += answered ? 1 : 0;
  if (--bootstrap_->pings_outstanding > 0) return;
  if (!bootstrap_->seeds.empty() && bootstrap_->answered == 0) {
    std::vector<std::string> names;
    for (const auto& seed : bootstrap_->seeds) names.push_back(seed.ToString());
    auto done = std::move(bootstrap_->done);
    bootstrap_.reset();
    done(absl::UnavailableError(absl::StrCat(
        "no bootstrap node answered (tried ", absl::StrJoin(names, ", "), ")")));
    return;
  }
  if (options_.read_only) return FinishBootstrap();
  LookUpSelf(1);
}

void Node::Impl::LookUpSelf(int attempt) {
  // Join: look up our own id, then refresh every bucket farther away than
  // our nearest neighbour. A self-lookup that no node answered (its few
  // requests were lost) is tried again: the seeds did answer a ping.
  FindNode(node_.id_, [this, attempt](absl::StatusOr<LookupResult> found) {
    if (!found.ok() && attempt < kSeedPingAttempts) {
      return LookUpSelf(attempt + 1);
    }
    for (const NodeId& target :
         node_.routing_table_->TargetsFartherThanNearest(gen_)) {
      FindNode(target, [](absl::StatusOr<LookupResult>) {});
    }
    FinishBootstrap();
  });
}

void Node::Impl::FinishBootstrap() {
  auto done = std::move(bootstrap_->done);
  bootstrap_.reset();
  done(static_cast<int>(node_.routing_table_->size()));
}

// ---- Impl: maintenance -----------------------------------------------------

void Node::Impl::RefreshStaleBuckets() {
  if (node_.routing_table_->size() == 0) {
    // Cut off from the overlay: start over from the seeds we were given.
    if (!bootstrap_ && !bootstrap_seeds_.empty()) {
      Bootstrap(bootstrap_seeds_, [](absl::StatusOr<int>) {});
    }
    return;
  }
  for (const NodeId& target :
       node_.routing_table_->TargetsToRefresh(clock_.Now(), gen_)) {
    FindNode(target, [](absl::StatusOr<LookupResult>) {});
  }
}

void Node::Impl::Republish() {
  const absl::Time now = clock_.Now();
  std::vector<storage::Record> records;
  publications_.ForEach([&](const storage::Publication& publication) {
    records.push_back(publication.record);
    records.back().expires = now + publication.ttl;
  });
  for (storage::Record& record : records) {
    std::string key = record.key;
    Put(std::move(record), [key](absl::StatusOr<PutResult> result) {
      if (!result.ok()) {
        spdlog::info("republish of '{}' failed: {}", key,
                     result.status().ToString());
      }
    });
  }
}

}  // namespace kad::dht

// Node::Impl (dht/node_impl.h): wiring, dispatch and serving.
#include <spdlog/spdlog.h>

#include <utility>

#include "dht/node_impl.h"
#include "dht/prefetch.h"
#include "dht/record_auth.h"
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

// `exempt` must outlive the table: the options keep a span of it.
RoutingTableOptions TableOptions(const NodeOptions& options,
                                 std::span<const net::Subnet> exempt) {
  RoutingTableOptions table;
  table.bucket_size = options.bucket_size;
  table.refresh_interval = options.bucket_refresh_interval;
  table.max_per_subnet = options.max_per_subnet_in_bucket;
  table.max_per_subnet_in_table = options.max_per_subnet_in_table;
  table.prefix_limit_exempt = exempt;
  table.id_binding = options.id_binding;
  return table;
}

// Returns a seed drawn apart from the node's own generator (by `salt`), so
// that turning a piece that uses it on or off changes nothing else.
uint64_t SeedApart(const NodeOptions& options, uint64_t salt) {
  SplitMix64 gen(*options.seed ^ salt);
  return gen();
}

// Keys the request gate's hash tables.
uint64_t GateSeedOf(const NodeOptions& options) {
  return SeedApart(options, 0x6761746573656564);  // "gateseed"
}

// The node's store admission, if on, keyed by a seed of its own.
std::unique_ptr<StoreAdmission> StoreAdmissionOf(const NodeOptions& options,
                                                 const RoutingTable& table) {
  if (!options.store_admission || options.read_only) return nullptr;
  StoreAdmissionOptions admission = *options.store_admission;
  admission.seed = SeedApart(options, 0x73746f726561646d);  // "storeadm"
  return std::make_unique<StoreAdmission>(admission, options.bucket_size,
                                          table);
}

// `exempt` must outlive the lookups: the options keep a span of it.
LookupOptions LookupOptionsOf(const NodeOptions& options,
                              std::span<const net::Subnet> exempt) {
  LookupOptions lookup;
  lookup.bucket_size = options.bucket_size;
  lookup.parallelism = options.parallelism;
  lookup.max_per_subnet = options.lookup_max_per_subnet;
  lookup.prefix_limit_exempt = exempt;
  lookup.max_requests = options.lookup_max_requests;
  lookup.deadline = options.lookup_deadline;
  return lookup;
}

}  // namespace

// ---- Impl: wiring ----------------------------------------------------------

Node::Impl::Impl(const NodeId& id, NodeOptions options,
                 net::Transport& transport, net::Clock& clock,
                 storage::RecordStore& store,
                 storage::PublicationStore* publications)
    : id_(id),
      read_only_(options.read_only),
      expiry_interval_(options.expiry_interval),
      republish_interval_(options.republish_interval),
      prefix_limit_exempt_(std::move(options.prefix_limit_exempt)),
      id_binding_(options.id_binding),
      transport_(transport),
      clock_(clock),
      store_(store, clock,
             {options.store_commit_batch, options.store_commit_delay}),
      routing_table_(id_, TableOptions(options, prefix_limit_exempt_), clock.Now()),
      gen_(*options.seed),
      public_address_({}, options.id_binding),
      secret_gen_(options.secrets == NodeOptions::SecretSource::kCsprng
                      ? absl::BitGenRef(csprng_)
                      : absl::BitGenRef(gen_)),
      tokens_(secret_gen_, options.token_rotation, clock.Now()),
      rpc_(RpcOptions{{options.initial_rpc_timeout, options.min_rpc_timeout,
                       options.max_rpc_timeout},
                      options.rpc_give_up_after_timeouts,
                      options.read_only ? std::nullopt
                                         : std::optional<NodeId>(id_)},
           transport, clock, stats_, secret_gen_),
      stats_service_(options.stats_allow, clock.Now(), routing_table_, store_,
                     stats_, lookup_latency_, gate_),
      store_admission_(StoreAdmissionOf(options, routing_table_)),
      handler_(options.bucket_size, routing_table_, store_, tokens_, stats_,
               stats_service_, store_admission_.get()),
      requester_(id_, rpc_, routing_table_, clock),
      lookups_(LookupOptionsOf(options, prefix_limit_exempt_), id_,
               routing_table_, requester_, clock, stats_, lookup_latency_),
      publisher_({options.bucket_size, options.read_only,
                  options.disjoint_paths},
                 id_, lookups_, requester_, store_,
                 publications ? *publications : own_publications_, clock),
      reader_({options.get_quorum, options.read_only, options.disjoint_paths},
              lookups_, requester_, store_, clock, stats_),
      bootstrapper_(options.read_only, id_, routing_table_, lookups_,
                    requester_, clock, gen_),
      replication_({options.bucket_size, options.replicate_interval,
                    options.handoff_delay, options.replication_pace},
                   id_, routing_table_, requester_, store_, clock, stats_,
                   gen_),
      gate_(options.admission, options.reply_budget, GateSeedOf(options)),
      timers_(clock) {
  requester_.set_id_binding(id_binding_, public_address_);
  if (!options.read_only) {
    requester_.set_on_contact_added(
        [this](const Contact& contact) { replication_.OnContactAdded(contact); });
  }
}

std::optional<net::Endpoint> Node::Impl::public_address() const {
  if (std::optional<net::Endpoint> decided = public_address_.Decided()) {
    return decided;
  }
  const net::Endpoint local = transport_.local_endpoint();
  if (Verifiable(local, id_binding_)) return local.WithPort(0);
  return std::nullopt;
}

bool Node::Impl::id_bound() const {
  std::optional<net::Endpoint> address = public_address();
  return address.has_value() &&
         CheckId(id_, *address, id_binding_) == IdCheck::kVerified;
}

Node::Impl::~Impl() {
  transport_.SetReceiveHandler(
      [](const net::Endpoint&, std::span<const uint8_t>) {});
}

void Node::Impl::Start() {
  transport_.SetReceiveHandler(
      [this](const net::Endpoint& from, std::span<const uint8_t> bytes) {
        OnDatagram(from, bytes);
      });
  Every(expiry_interval_,
        [this] { store_.ExpireSome(clock_.Now(), kExpiryBatch); });
  if (read_only_) return;
  Every(kRefreshCheckPeriod, [this] { RefreshStaleBuckets(); });
  Every(republish_interval_, [this] { publisher_.Republish(); });
  replication_.Start();
}

void Node::Impl::Every(absl::Duration period, absl::AnyInvocable<void()> fn) {
  if (period == absl::InfiniteDuration()) return;  // Turned off.
  timers_.Schedule(period, [this, period, fn = std::move(fn)]() mutable {
    fn();
    Every(period, std::move(fn));
  });
}

void Node::Impl::RefreshStaleBuckets() {
  // Cut off from the overlay: start over from the seeds we were given.
  if (bootstrapper_.RejoinIfCutOff()) return;
  for (const NodeId& target : routing_table_.TargetsToRefresh(clock_.Now(), gen_)) {
    lookups_.Start(target, std::nullopt, [](LookupRun&) {},
                   /*satisfied=*/nullptr, /*paths=*/1, /*width=*/0,
                   LookupDriver::Urgency::kUpkeep);
  }
}

// ---- Impl: dispatch and serving --------------------------------------------

void Node::Impl::PrefetchState() const {
  PrefetchBytes(this, sizeof(*this));
  routing_table_.Prefetch();
}

void Node::Impl::OnDatagram(const net::Endpoint& from,
                            std::span<const uint8_t> bytes) {
  // Decoding needs none of this node's state; what comes after needs much
  // of it (dht/prefetch.h).
  PrefetchState();
  ++stats_.datagrams_in;
  stats_.bytes_in += bytes.size();
  auto message = DecodeMessage(bytes, clock_.Now());
  if (!message.ok()) {
    ++stats_.malformed_in;
    spdlog::debug("dropped datagram from {}: {}", from.ToString(),
                  message.status().ToString());
    return;
  }
  ++stats_.messages_in[static_cast<size_t>(message->type())];
  if (message->is_request()) {
    if (read_only_) return;
    if (!gate_.Admit(from, clock_.Now())) {
      ++stats_.requests_refused;  // Silently: no reply, no probe.
      return;
    }
    Serve(from, *message, bytes.size());
    return;
  }
  rpc_.OnResponse(from, *std::move(message), bytes.size());
}

void Node::Impl::Serve(const net::Endpoint& from, const Message& request,
                       size_t request_bytes) {
  const absl::Time now = clock_.Now();
  Message response{request.transaction_id, id_,
                   handler_.Handle(request, from, now)};
  if (const auto* offer = std::get_if<Offer>(&request.body)) {
    if (const auto* reply = std::get_if<OfferReply>(&response.body)) {
      replication_.NoteOffered(*offer, *reply);
    }
  }
  const bool proven = gate_.needs_proof() && Proven(from, request.sender);
  if (std::holds_alternative<Stored>(response.body) && store_.pending()) {
    // "Stored" only once the record is durable (dht/group_committer.h).
    store_.AfterCommit([this, from, response, request_bytes,
                        proven](const absl::Status& commit) mutable {
      if (!commit.ok()) response.body = handler_.CommitFailed(commit);
      Reply(from, response, request_bytes, proven);
    });
  } else if (!std::holds_alternative<dht::Stats>(request.body) ||
             std::holds_alternative<StatsReply>(response.body)) {
    // A refused stats request gets no answer: the refusal would be traffic
    // for whoever forged the request.
    Reply(from, response, request_bytes, proven);
  }
  if (!request.sender || *request.sender == id_) return;
  Contact contact{*request.sender, from};
  if (!routing_table_.OnRequest(contact, now)) {
    ProbeStranger(contact, request_bytes);
  }
}

void Node::Impl::Reply(const net::Endpoint& to, const Message& response,
                       size_t request_bytes, bool proven) {
  const absl::Time now = clock_.Now();
  auto bytes = EncodeMessage(response, now);
  if (!bytes.ok()) {
    spdlog::debug("cannot answer {}: {}", to.ToString(),
                  bytes.status().ToString());
    return;
  }
  if (!gate_.MayReply(to, request_bytes, bytes->size(), proven, now)) {
    ++stats_.replies_withheld;
    stats_.reply_bytes_withheld += bytes->size();
    return;
  }
  if (absl::Status sent =
          SendEncoded(transport_, stats_, to, response.type(), *bytes);
      !sent.ok()) {
    spdlog::debug("cannot answer {}: {}", to.ToString(), sent.ToString());
  }
}

bool Node::Impl::Proven(const net::Endpoint& from,
                        const std::optional<NodeId>& sender) const {
  if (rpc_.SmoothedRtt(from) > absl::ZeroDuration()) return true;
  if (!sender) return false;
  std::optional<RoutingEntry> entry = routing_table_.Find(*sender);
  return entry && entry->contact.endpoint == from;
}

void Node::Impl::ProbeStranger(const Contact& contact, size_t request_bytes) {
  // A node enters the table only after answering us: ping it first — one
  // probe per source endpoint at a time, and within the reply budget,
  // since the source may be forged. (Not one per address: a local overlay
  // runs thousands of nodes on 127.0.0.1.)
  constexpr size_t kPingBytes = 30;  // A ping with a sender id.
  if (!routing_table_.WouldAdmit(contact.id) ||
      probing_.size() >= kMaxConcurrentProbes ||
      probing_.contains(contact.endpoint) ||
      !gate_.MayReply(contact.endpoint, request_bytes, kPingBytes,
                      /*proven=*/false, clock_.Now())) {
    return;
  }
  probing_.insert(contact.endpoint);
  requester_.Send(contact.endpoint, contact.id, dht::Ping{},
                  {nullptr, [this, source = contact.endpoint](
                                absl::StatusOr<Message>) {
                     probing_.erase(source);
                     ReleaseIfSparse(probing_);
                   }});
}

void Node::Impl::AdoptContacts(std::span<const Contact> contacts) {
  const absl::Time now = clock_.Now();
  for (const Contact& contact : contacts) {
    if (contact.id != id_) routing_table_.OnResponse(contact, now);
  }
}

// ---- Impl: ping, find_node and stats ---------------------------------------

void Node::Impl::Ping(const net::Endpoint& endpoint, Callback<PingResult> done) {
  const absl::Time sent = clock_.Now();
  requester_.Send(
      endpoint, std::nullopt, dht::Ping{},
      {nullptr, [this, sent, done = std::move(done)](
                    absl::StatusOr<Message> answer) mutable {
         if (!answer.ok()) return done(answer.status());
         if (!answer->sender) {
           return done(absl::UnavailableError("answer carried no node id"));
         }
         done(PingResult{*answer->sender, clock_.Now() - sent});
       }});
}

void Node::Impl::FindNode(const NodeId& target, Callback<LookupResult> done) {
  lookups_.Start(target, std::nullopt,
                 [this, done = std::move(done)](LookupRun& run) mutable {
                   std::vector<Contact> closest = run.lookup.Closest();
                   if (closest.empty()) {
                     return done(absl::UnavailableError(
                         "no node answered the lookup (is the node "
                         "bootstrapped?)"));
                   }
                   done(LookupResult{WithRtt(closest), lookups_.StatsOf(run)});
                 });
}

std::vector<ContactInfo> Node::Impl::WithRtt(
    const std::vector<Contact>& contacts) const {
  std::vector<ContactInfo> infos;
  infos.reserve(contacts.size());
  for (const Contact& c : contacts) {
    infos.push_back({c, rpc_.SmoothedRtt(c.endpoint)});
  }
  return infos;
}

void Node::Impl::Stats(const net::Endpoint& endpoint,
                       Callback<StatsReport> done) {
  requester_.Send(endpoint, std::nullopt, dht::Stats{},
                  {nullptr, [endpoint, done = std::move(done)](
                                absl::StatusOr<Message> answer) mutable {
                     done(ToStatsReport(endpoint, std::move(answer)));
                   }});
}

}  // namespace kad::dht

#include "runtime/node_runtime.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dht/id_binding.h"
#include "dht/routing_table.h"
#include "dht/split_mix64.h"
#include "spdlog/spdlog.h"
#include "storage/memory_store.h"

namespace kad::runtime {
namespace {

// Keeps the joiner's jitter apart from the node's own random stream when
// both come from NodeOptions::seed.
constexpr uint64_t kJitterSeedSalt = 0x6a6f696e6a697474;  // "joinjitt"

uint64_t JitterSeed(const dht::NodeOptions& node) {
  return node.seed.has_value() ? *node.seed ^ kJitterSeedSalt
                               : std::random_device{}();
}

}  // namespace

NodeRuntime::NodeRuntime(net::Clock& clock, std::unique_ptr<DataDir> dir,
                         const NodeRuntimeOptions& options)
    : dir_(std::move(dir)),
      memory_store_(dir_ ? nullptr
                         : std::make_unique<storage::MemoryStore>(
                               options.memory_store)),
      memory_publications_(
          dir_ ? nullptr : std::make_unique<storage::MemoryPublicationStore>()),
      store_(dir_ ? &dir_->records() : memory_store_.get()),
      publications_(dir_ ? &dir_->publications() : memory_publications_.get()),
      stats_interval_(options.stats_interval),
      timers_(clock) {}

NodeRuntime::~NodeRuntime() = default;

absl::StatusOr<std::unique_ptr<NodeRuntime>> NodeRuntime::Create(
    NodeRuntimeOptions options, net::Transport& transport, net::Clock& clock,
    std::unique_ptr<DataDir> data_dir) {
  std::unique_ptr<NodeRuntime> runtime(
      new NodeRuntime(clock, std::move(data_dir), options));
  runtime->id_given_ = options.node.id.has_value();
  runtime->id_binding_ = options.node.id_binding;
  absl::StatusOr<bool> save_id = runtime->AdoptSavedState(options);
  if (!save_id.ok()) return save_id.status();
  runtime->seeds_ = std::move(options.seeds);
  const uint64_t jitter_seed = JitterSeed(options.node);
  runtime->rekey_seed_ = jitter_seed ^ 0x72656b6579;  // "rekey"
  runtime->node_ =
      std::make_unique<dht::Node>(std::move(options.node), transport, clock,
                                  *runtime->store_, runtime->publications_);
  runtime->joiner_ = std::make_unique<Joiner>(
      *runtime->node_, clock, runtime->seeds_, options.rejoin, jitter_seed);
  runtime->node_->Start();
  if (*save_id) {
    if (absl::Status saved = runtime->dir_->SaveId(runtime->node_->id());
        !saved.ok()) {
      return saved;
    }
  }
  return runtime;
}

absl::StatusOr<bool> NodeRuntime::AdoptSavedState(NodeRuntimeOptions& options) {
  if (dir_ == nullptr) return false;
  absl::StatusOr<std::optional<dht::NodeId>> saved_id = dir_->LoadId();
  if (!saved_id.ok()) return saved_id.status();
  if (*saved_id && options.node.id && **saved_id != *options.node.id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data dir ", dir_->path(), " belongs to node ", (*saved_id)->ToHex(),
        "; the id asked for, ", options.node.id->ToHex(), ", differs"));
  }
  if (*saved_id) options.node.id = **saved_id;
  if (options.seeds.empty()) {
    absl::StatusOr<std::vector<net::Endpoint>> saved = dir_->LoadContacts();
    if (!saved.ok()) return saved.status();
    options.seeds = *std::move(saved);
    if (!options.seeds.empty()) {
      spdlog::info("rejoining through {} saved contacts", options.seeds.size());
    }
  }
  return !saved_id->has_value();
}

void NodeRuntime::Start() {
  joiner_->Start();
  if (dir_ != nullptr) {
    Every(kFirstContactSave, kContactSavePeriod, [this] {
      if (absl::Status saved = SaveContacts(); !saved.ok()) {
        spdlog::warn("{}", saved.ToString());
      }
    });
  }
  if (stats_interval_ != absl::InfiniteDuration()) {
    Every(stats_interval_, stats_interval_, [this] { LogStats(); });
  }
  Every(kContactSavePeriod, kContactSavePeriod, [this] { CheckIdBinding(); });
}

std::optional<dht::NodeId> NodeRuntime::CheckIdBinding() {
  const std::optional<net::Endpoint> address = node_->public_address();
  if (!address || node_->id_bound() || address == rebound_for_) {
    return std::nullopt;
  }
  rebound_for_ = address;
  const std::string id = node_->id().ToHex();
  const std::string at = address->AddressString();
  if (dir_ == nullptr || id_given_) {
    spdlog::info(
        "id {} is not bound to our public address {}: peers that enforce id "
        "binding refuse it ({})",
        id, at,
        id_given_ ? "the id was given" : "no data dir to keep a bound one in");
    return std::nullopt;
  }
  dht::SplitMix64 gen(rekey_seed_);
  const dht::NodeId bound = dht::RandomBoundId(*address, id_binding_, gen);
  if (absl::Status saved = dir_->SaveId(bound); !saved.ok()) {
    spdlog::warn("{}", saved.ToString());
    return std::nullopt;
  }
  spdlog::warn(
      "id {} is not bound to our public address {}; saved {}, bound to it, "
      "in {}: the node uses it from its next start",
      id, at, bound.ToHex(), dir_->path());
  return bound;
}

absl::Status NodeRuntime::SaveContacts() const {
  if (dir_ == nullptr) return absl::OkStatus();
  return dir_->SaveContacts(node_->routing_table().AllContacts());
}

void NodeRuntime::Every(absl::Duration first, absl::Duration period,
                        absl::AnyInvocable<void()> fn) {
  timers_.Schedule(first, [this, period, fn = std::move(fn)]() mutable {
    fn();
    Every(period, period, std::move(fn));
  });
}

void NodeRuntime::LogStats() const {
  const dht::NodeStats& stats = node_->stats();
  const storage::StoreStats held = store_->stats();
  spdlog::info(
      "stats: {} contacts, {} records ({} bytes), datagrams in {} out {}, "
      "malformed {}, rpc timeouts {} retransmits {} failures {}, "
      "lookups {}, "
      "replication: {} offers, {} records pushed, {} bytes, "
      "refused: {} requests, {} replies ({} bytes), "
      "public address {} (id {})",
      node_->routing_table().size(), held.records, held.bytes,
      stats.datagrams_in, stats.datagrams_out, stats.malformed_in,
      stats.rpc_timeouts, stats.rpc_retransmits, stats.rpc_failures,
      stats.lookups_finished, stats.offers_sent, stats.records_pushed,
      stats.maintenance_bytes, stats.requests_refused, stats.replies_withheld,
      stats.reply_bytes_withheld, PublicAddressText(),
      node_->id_bound() ? "bound" : "not bound");
}

std::string NodeRuntime::PublicAddressText() const {
  const std::optional<net::Endpoint> address = node_->public_address();
  return address ? address->AddressString() : "unknown";
}

}  // namespace kad::runtime

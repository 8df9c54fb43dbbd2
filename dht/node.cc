#include "dht/node.h"

#include <spdlog/spdlog.h>

#include <cassert>
#include <random>
#include <utility>

#include "dht/node_impl.h"

namespace kad::dht {
namespace {

uint64_t SeedOf(const NodeOptions& options) {
  if (options.seed) return *options.seed;
  std::random_device device;
  return (uint64_t{device()} << 32) ^ device();
}

NodeId IdOf(const NodeOptions& options, const net::Endpoint& local) {
  if (options.id) return *options.id;
  std::mt19937_64 id_gen(*options.seed ^ 0x6b61642d6e6f6465);  // "kad-node"
  if (Verifiable(local, options.id_binding)) {
    return RandomBoundId(local, options.id_binding, id_gen);
  }
  return NodeId::Random(id_gen);
}

}  // namespace

// ---- Node: thin forwarding to Impl ----------------------------------------

Node::Node(NodeOptions options, net::Transport& transport, net::Clock& clock,
           storage::RecordStore& store,
           storage::PublicationStore* publications) {
  if (absl::Status valid = ValidateNodeOptions(options); !valid.ok()) {
    // A programmer's error: flags are checked through the same function.
    spdlog::error("invalid node options: {}", valid.ToString());
    assert(false && "NodeOptions must pass ValidateNodeOptions");
  }
  if (!options.secrets) {
    options.secrets = options.seed ? NodeOptions::SecretSource::kSeed
                                   : NodeOptions::SecretSource::kCsprng;
  }
  options.seed = SeedOf(options);
  const NodeId id = IdOf(options, transport.local_endpoint());
  impl_ = std::make_unique<Impl>(id, std::move(options), transport, clock,
                                 store, publications);
}

Node::~Node() = default;

void Node::Start() { impl_->Start(); }
void Node::Bootstrap(std::vector<net::Endpoint> seeds, Callback<int> done) {
  impl_->bootstrapper().Bootstrap(std::move(seeds), std::move(done));
}
void Node::Ping(const net::Endpoint& endpoint, Callback<PingResult> done) {
  impl_->Ping(endpoint, std::move(done));
}
void Node::FindNode(const NodeId& target, Callback<LookupResult> done) {
  impl_->FindNode(target, std::move(done));
}
void Node::Put(storage::Record record, Callback<PutResult> done) {
  Put(std::move(record), std::nullopt, std::move(done));
}

void Node::Put(storage::Record record, std::optional<uint64_t> expected_seq,
               Callback<PutResult> done) {
  impl_->publisher().Put(std::move(record), expected_seq, std::move(done));
}
void Node::Get(std::string key, Callback<GetResult> done) {
  impl_->reader().Get(std::move(key), RecordReader::Accept::kAny,
                      std::move(done));
}

void Node::GetProven(std::string address, Callback<GetResult> done) {
  impl_->reader().Get(std::move(address), RecordReader::Accept::kProven,
                      std::move(done));
}

void Node::GetSigned(std::string_view public_key, std::string_view name,
                     Callback<GetResult> done) {
  GetProven(SignedAddress(public_key, name), std::move(done));
}
void Node::AdoptContacts(std::span<const Contact> contacts) {
  impl_->AdoptContacts(contacts);
}
void Node::Stats(const net::Endpoint& endpoint, Callback<StatsReport> done) {
  impl_->Stats(endpoint, std::move(done));
}
const NodeId& Node::id() const { return impl_->id(); }
std::optional<net::Endpoint> Node::public_address() const {
  return impl_->public_address();
}
bool Node::id_bound() const { return impl_->id_bound(); }
net::Endpoint Node::endpoint() const {
  return impl_->transport().local_endpoint();
}
const RoutingTable& Node::routing_table() const {
  return impl_->routing_table();
}
const NodeStats& Node::stats() const { return impl_->stats(); }
RequestGateStats Node::gate_stats() const { return impl_->gate_stats(); }

}  // namespace kad::dht

#include "bench/flooding.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <optional>
#include <utility>

namespace kad::bench {

// ---- Wire format (see the header) ------------------------------------------

struct FloodingOverlay::Query {
  uint64_t id = 0;
  uint8_t hops_left = 0;
  uint8_t hops = 0;
  std::array<uint8_t, 20> key{};
};

struct FloodingOverlay::Answer {
  uint64_t id = 0;
  uint8_t hops = 0;
};

namespace {

constexpr uint8_t kQueryType = 1;
constexpr uint8_t kAnswerType = 2;
constexpr size_t kQueryBytes = 31;
constexpr size_t kAnswerBytes = 10;

// Hops added to the smallest h with (degree - 1)^h >= n. A peer forwards
// only the first copy of a query, and with internet-like delays that copy
// often came along a fast but long path, with few hops left: measured with
// the default link model, +1 leaves 1% of peers unreached at n = 1,000 and
// 5% at 100,000; +3 reaches all but 0.02% at 100,000.
constexpr int kHopLimitMargin = 3;

void PutU64(uint8_t* out, uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(value);
    value >>= 8;
  }
}

uint64_t GetU64(const uint8_t* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | in[i];
  return value;
}

// Derives the network's seeds from the overlay seed exactly as SimOverlay
// does, so equal seeds give equal RTTs between equal host indices.
net::SimNetworkOptions Seeded(net::SimNetworkOptions network, uint64_t seed) {
  network.seed = seed ^ 0x6e6574776f726b;  // "network"
  network.link.seed = seed ^ 0x6c696e6b;   // "link"
  return network;
}

}  // namespace

// ---- Building the overlay --------------------------------------------------

FloodingOverlay::FloodingOverlay(FloodingOptions options)
    : options_(std::move(options)),
      gen_(options_.seed),
      network_(clock_, Seeded(options_.network, options_.seed)) {
  assert(options_.degree >= 0);
  assert(options_.hop_limit >= 0 && options_.hop_limit <= kMaxHopLimit);
}

int FloodingOverlay::DefaultHopLimit(size_t n, int degree) {
  const uint64_t fan_out = degree > 1 ? static_cast<uint64_t>(degree - 1) : 1;
  if (fan_out < 2) return kMaxHopLimit;  // A path or less: no bound helps.
  int h = 0;
  for (uint64_t reach = 1; reach < n && h < kMaxHopLimit; reach *= fan_out) {
    ++h;
  }
  return std::min(h + kHopLimitMargin, kMaxHopLimit);
}

void FloodingOverlay::Build(size_t n) {
  assert(transports_.empty());
  assert(n <= net::SimNetwork::kMaxHosts);
  transports_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    transports_.push_back(network_.NewTransport());
    transports_.back()->SetReceiveHandler(
        [this, peer = static_cast<uint32_t>(i)](
            const net::Endpoint& from, std::span<const uint8_t> datagram) {
          OnDatagram(peer, from, datagram);
        });
  }
  assert(n == 0 || (EndpointOf(0) == transports_[0]->local_endpoint() &&
                    EndpointOf(n - 1) == transports_[n - 1]->local_endpoint()));
  peers_.assign(n, PeerState{});
  Link();
  hop_limit_ = options_.hop_limit > 0 ? options_.hop_limit
                                      : DefaultHopLimit(n, options_.degree);
}

void FloodingOverlay::Link() {
  const auto n = static_cast<uint32_t>(transports_.size());
  std::vector<std::pair<uint32_t, uint32_t>> links;
  if (n >= 2) {
    const uint64_t count = uint64_t{n} * options_.degree / 2;
    links.reserve(count);
    for (uint64_t link = 0; link < count; ++link) {
      const auto a = static_cast<uint32_t>(link % n);
      auto b = static_cast<uint32_t>(gen_() % (n - 1));
      if (b >= a) ++b;  // Uniform over the others: no self-links.
      links.push_back(std::minmax(a, b));
    }
    std::sort(links.begin(), links.end());
    links.erase(std::unique(links.begin(), links.end()), links.end());
  }
  // Flat adjacency: count, prefix-sum, fill. Links are sorted, so each
  // peer's slice comes out ascending.
  first_neighbour_.assign(size_t{n} + 1, 0);
  for (const auto& [a, b] : links) {
    ++first_neighbour_[a + 1];
    ++first_neighbour_[b + 1];
  }
  for (uint32_t i = 0; i < n; ++i) {
    first_neighbour_[i + 1] += first_neighbour_[i];
  }
  neighbours_.resize(links.size() * 2);
  std::vector<uint32_t> fill(first_neighbour_.begin(),
                             first_neighbour_.end() - 1);
  for (const auto& [a, b] : links) {
    neighbours_[fill[a]++] = b;
    neighbours_[fill[b]++] = a;
  }
}

std::span<const uint32_t> FloodingOverlay::neighbours(size_t peer) const {
  return std::span<const uint32_t>(neighbours_)
      .subspan(first_neighbour_[peer],
               first_neighbour_[peer + 1] - first_neighbour_[peer]);
}

// SimNetwork places host i at 10.a.b.c with a.b.c = i + 1, and every host
// of this network is one of our peers, created in order: so addresses map
// to peers and back without touching the transports (a cache miss each).
net::Endpoint FloodingOverlay::EndpointOf(uint32_t peer) const {
  const uint32_t n = peer + 1;
  return net::Endpoint::Ipv4(
      {10, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
       static_cast<uint8_t>(n)},
      options_.network.port);
}

uint32_t FloodingOverlay::PeerAt(const net::Endpoint& endpoint) const {
  const std::span<const uint8_t> a = endpoint.address();
  assert(endpoint.family() == net::Family::kIpv4 && a[0] == 10);
  const uint32_t n = (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | a[3];
  assert(n >= 1 && n <= transports_.size());
  return n - 1;
}

// ---- Searching -------------------------------------------------------------

LookupSample FloodingOverlay::Search(size_t origin,
                                     std::span<const size_t> holders) {
  assert(origin < size());
  const uint64_t id = ++query_id_;
  for (const size_t holder : holders) {
    assert(holder < size());
    peers_[holder].holds = id;
  }
  flood_ = FloodStats{};
  answered_ = false;
  first_answer_ = LookupSample{};
  if (Holds(static_cast<uint32_t>(origin), id)) {
    first_answer_.success = true;
    return first_answer_;
  }

  const net::SimNetworkStats before = network_.stats();
  Query query{
      .id = id, .hops_left = static_cast<uint8_t>(hop_limit_), .hops = 0};
  for (uint8_t& byte : query.key) byte = static_cast<uint8_t>(gen_());
  const auto asker = static_cast<uint32_t>(origin);
  peers_[asker].query = id;
  peers_[asker].upstream = kNoPeer;
  started_ = clock_.Now();
  SendQueries(asker, kNoPeer, query);
  clock_.RunUntilIdle();  // The flood is finite: it ends on its own.

  const net::SimNetworkStats& after = network_.stats();
  LookupSample sample = first_answer_;
  sample.messages =
      static_cast<int>(after.datagrams_sent - before.datagrams_sent);
  sample.bytes = after.bytes_sent - before.bytes_sent;
  return sample;
}

bool FloodingOverlay::Holds(uint32_t peer, uint64_t query) const {
  return peers_[peer].holds == query;
}

void FloodingOverlay::SendQueries(uint32_t from, uint32_t except,
                                  const Query& query) {
  std::array<uint8_t, kQueryBytes> bytes;
  bytes[0] = kQueryType;
  PutU64(&bytes[1], query.id);
  bytes[9] = query.hops_left;
  bytes[10] = query.hops;
  std::copy(query.key.begin(), query.key.end(), bytes.begin() + 11);
  for (const uint32_t neighbour : neighbours(from)) {
    if (neighbour == except) continue;
    ++flood_.queries;
    Send(from, neighbour, bytes);
  }
}

void FloodingOverlay::SendAnswer(uint32_t from, uint32_t to,
                                 const Answer& answer) {
  std::array<uint8_t, kAnswerBytes> bytes;
  bytes[0] = kAnswerType;
  PutU64(&bytes[1], answer.id);
  bytes[9] = answer.hops;
  ++flood_.answers;
  Send(from, to, bytes);
}

void FloodingOverlay::Send(uint32_t from, uint32_t to,
                           std::span<const uint8_t> datagram) {
  const absl::Status sent = transports_[from]->Send(EndpointOf(to), datagram);
  assert(sent.ok());  // Fails only for oversized datagrams.
  (void)sent;
}

void FloodingOverlay::OnDatagram(uint32_t peer, const net::Endpoint& from,
                                 std::span<const uint8_t> datagram) {
  if (datagram.size() == kQueryBytes && datagram[0] == kQueryType) {
    Query query{.id = GetU64(&datagram[1]),
                .hops_left = datagram[9],
                .hops = datagram[10]};
    std::copy(datagram.begin() + 11, datagram.end(), query.key.begin());
    OnQuery(peer, PeerAt(from), query);
  } else if (datagram.size() == kAnswerBytes && datagram[0] == kAnswerType) {
    OnAnswer(peer, Answer{.id = GetU64(&datagram[1]), .hops = datagram[9]});
  } else {
    ++flood_.malformed;
  }
}

void FloodingOverlay::OnQuery(uint32_t peer, uint32_t from,
                              const Query& query) {
  PeerState& state = peers_[peer];
  if (state.query == query.id) {
    ++flood_.duplicates;
    return;
  }
  state.query = query.id;
  state.upstream = from;
  ++flood_.reached;
  const auto hops = static_cast<uint8_t>(query.hops + 1);
  if (Holds(peer, query.id)) {
    SendAnswer(peer, from, Answer{.id = query.id, .hops = hops});
    return;
  }
  if (query.hops_left <= 1) return;
  ++flood_.forwarded;
  Query next = query;
  next.hops_left = static_cast<uint8_t>(query.hops_left - 1);
  next.hops = hops;
  SendQueries(peer, from, next);
}

void FloodingOverlay::OnAnswer(uint32_t peer, const Answer& answer) {
  const PeerState& state = peers_[peer];
  if (state.query != answer.id) return;  // Not a query it routed.
  if (state.upstream != kNoPeer) {
    SendAnswer(peer, state.upstream, answer);
    return;
  }
  ++flood_.answers_received;
  if (answered_) return;
  answered_ = true;
  first_answer_.success = true;
  first_answer_.hops = answer.hops;
  first_answer_.latency = clock_.Now() - started_;
}

}  // namespace kad::bench

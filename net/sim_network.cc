#include "net/sim_network.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kad::net {
namespace {

constexpr uint32_t kNoSlot = std::numeric_limits<uint32_t>::max();
// InFlight::from of an injected datagram; hosts are below kMaxHosts.
constexpr uint32_t kForeignSource = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kLossSalt = 0x6c6f73732d647261;  // "loss-dra"
// IPv6 hosts live in fd6b:6164::/96 ("kad" in a unique-local prefix).
constexpr std::array<uint8_t, 4> kV6Prefix = {0xfd, 0x6b, 0x61, 0x64};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

}  // namespace

// ---- SimTransport ----------------------------------------------------------

SimTransport::~SimTransport() { network_.OnDestroyed(host_); }

absl::Status SimTransport::Send(const Endpoint& to,
                                std::span<const uint8_t> datagram) {
  return network_.Send(host_, to, datagram);
}

Endpoint SimTransport::local_endpoint() const {
  return network_.EndpointOf(host_);
}

// ---- SimNetwork: hosts -----------------------------------------------------

SimNetwork::Lane::Lane(SimNetwork& network, SimClock& clock, uint32_t index,
                       size_t lanes)
    : network(network),
      clock(&clock),
      index(index),
      sink(clock.AddSink(this)),
      free_head(kNoSlot),
      outbox(lanes) {}

SimNetwork::SimNetwork(SimClock& clock, SimNetworkOptions options)
    : sim_lanes_(nullptr), options_(options), link_(options.link) {
  lanes_.push_back(std::make_unique<Lane>(*this, clock, 0, 1));
}

SimNetwork::SimNetwork(SimLanes& lanes, SimNetworkOptions options)
    : sim_lanes_(&lanes), options_(options), link_(options.link) {
  for (size_t i = 0; i < lanes.size(); ++i) {
    lanes_.push_back(std::make_unique<Lane>(
        *this, lanes.lane(i), static_cast<uint32_t>(i), lanes.size()));
  }
  lanes.AddListener(this);
}

SimNetwork::~SimNetwork() {
  for (const std::unique_ptr<Lane>& lane : lanes_) {
    lane->clock->RemoveSink(lane->sink);
  }
  if (sim_lanes_ != nullptr) sim_lanes_->RemoveListener(this);
}

SimNetworkStats SimNetwork::stats() const {
  SimNetworkStats sum;
  for (const std::unique_ptr<Lane>& lane : lanes_) {
    const SimNetworkStats& s = lane->stats;
    sum.datagrams_sent += s.datagrams_sent;
    sum.bytes_sent += s.bytes_sent;
    sum.datagrams_delivered += s.datagrams_delivered;
    sum.bytes_delivered += s.bytes_delivered;
    sum.dropped_loss += s.dropped_loss;
    sum.dropped_partition += s.dropped_partition;
    sum.dropped_unknown_destination += s.dropped_unknown_destination;
    sum.dropped_receiver_down += s.dropped_receiver_down;
    sum.dropped_sender_down += s.dropped_sender_down;
    sum.refused_detached += s.refused_detached;
    sum.datagrams_injected += s.datagrams_injected;
  }
  sum.crashes = crashes_;
  sum.leaves = leaves_;
  return sum;
}

size_t SimNetwork::in_flight() const {
  size_t count = 0;
  for (const std::unique_ptr<Lane>& lane : lanes_) {
    count += lane->in_flight_count;
    for (const std::vector<Crossing>& crossings : lane->outbox) {
      count += crossings.size();
    }
  }
  return count;
}

std::unique_ptr<SimTransport> SimNetwork::NewTransport(Family family) {
  assert(hosts_.size() < kMaxHosts);
  const auto host = static_cast<uint32_t>(hosts_.size());
  auto transport = std::unique_ptr<SimTransport>(new SimTransport(*this, host));
  hosts_.push_back(Host{transport.get(), 0, HostState::kUp, family});
  return transport;
}

Endpoint SimNetwork::EndpointOf(uint32_t host) const {
  const uint32_t n = host + 1;  // 10.0.0.0 is never used.
  const auto a = static_cast<uint8_t>(n >> 16);
  const auto b = static_cast<uint8_t>(n >> 8);
  const auto c = static_cast<uint8_t>(n);
  if (hosts_[host].family == Family::kIpv4) {
    return Endpoint::Ipv4({10, a, b, c}, options_.port);
  }
  std::array<uint8_t, 16> address{};
  std::copy(kV6Prefix.begin(), kV6Prefix.end(), address.begin());
  address[13] = a;
  address[14] = b;
  address[15] = c;
  return Endpoint::Ipv6(address, options_.port);
}

std::optional<uint32_t> SimNetwork::HostAt(const Endpoint& endpoint) const {
  if (endpoint.port() != options_.port) return std::nullopt;
  const std::span<const uint8_t> a = endpoint.address();
  const size_t tail = a.size() - 3;
  if (endpoint.family() == Family::kIpv4) {
    if (a[0] != 10) return std::nullopt;
  } else if (!std::equal(kV6Prefix.begin(), kV6Prefix.end(), a.begin()) ||
             !std::all_of(a.begin() + kV6Prefix.size(), a.begin() + tail,
                          [](uint8_t byte) { return byte == 0; })) {
    return std::nullopt;
  }
  const uint32_t n =
      (uint32_t{a[tail]} << 16) | (uint32_t{a[tail + 1]} << 8) | a[tail + 2];
  if (n == 0 || n > hosts_.size()) return std::nullopt;
  if (hosts_[n - 1].family != endpoint.family()) return std::nullopt;
  return n - 1;
}

void SimNetwork::SetState(const Endpoint& endpoint, HostState state) {
  const std::optional<uint32_t> host = HostAt(endpoint);
  if (!host || (hosts_[*host].state != HostState::kUp &&
                hosts_[*host].state != HostState::kDetached)) {
    return;
  }
  hosts_[*host].state = state;
  ++(state == HostState::kCrashed ? crashes_ : leaves_);
}

void SimNetwork::Crash(const Endpoint& endpoint) {
  SetState(endpoint, HostState::kCrashed);
}

void SimNetwork::Leave(const Endpoint& endpoint) {
  SetState(endpoint, HostState::kLeft);
}

bool SimNetwork::IsUp(const Endpoint& endpoint) const {
  const std::optional<uint32_t> host = HostAt(endpoint);
  return host && hosts_[*host].state == HostState::kUp;
}

void SimNetwork::Detach(const Endpoint& endpoint) {
  const std::optional<uint32_t> host = HostAt(endpoint);
  if (host && hosts_[*host].state == HostState::kUp) {
    hosts_[*host].state = HostState::kDetached;
  }
}

void SimNetwork::Reattach(const Endpoint& endpoint) {
  const std::optional<uint32_t> host = HostAt(endpoint);
  if (host && hosts_[*host].state == HostState::kDetached) {
    hosts_[*host].state = HostState::kUp;
  }
}

void SimNetwork::OnDestroyed(uint32_t host) {
  hosts_[host].transport = nullptr;
  hosts_[host].state = HostState::kDestroyed;
}

void SimNetwork::SetGroup(const Endpoint& endpoint, uint16_t group) {
  if (const std::optional<uint32_t> host = HostAt(endpoint)) {
    hosts_[*host].group = group;
  }
}

void SimNetwork::HealPartitions() {
  for (Host& host : hosts_) host.group = 0;
}

// ---- SimNetwork: datagrams -------------------------------------------------

absl::Status SimNetwork::TooBig(size_t bytes) {
  return absl::InvalidArgumentError(absl::StrCat(
      "datagram of ", bytes, " bytes exceeds ", kMaxDatagramBytes));
}

absl::Status SimNetwork::Send(uint32_t from, const Endpoint& to,
                              std::span<const uint8_t> datagram) {
  if (datagram.size() > kMaxDatagramBytes) return TooBig(datagram.size());
  Lane& lane = LaneOf(from);
  SimNetworkStats& stats = lane.stats;
  if (hosts_[from].state != HostState::kUp) {
    if (hosts_[from].state == HostState::kDetached) {
      ++stats.refused_detached;
      return absl::UnavailableError(
          absl::StrCat(EndpointOf(from).ToString(), " is detached"));
    }
    ++stats.dropped_sender_down;
    return absl::OkStatus();
  }
  const uint64_t sequence = stats.datagrams_sent++;
  stats.bytes_sent += datagram.size();
  const std::optional<uint32_t> dest = HostAt(to);
  if (!dest) {
    ++stats.dropped_unknown_destination;
  } else if (hosts_[from].group != hosts_[*dest].group) {
    ++stats.dropped_partition;
  } else if (Lost(sequence, lane.index)) {
    ++stats.dropped_loss;
  } else {
    Enqueue(lane, from, *dest, datagram);
  }
  return absl::OkStatus();
}

bool SimNetwork::Lost(uint64_t sequence, uint32_t lane) const {
  if (options_.loss <= 0) return false;
  const uint64_t draw = SplitMix64(options_.seed ^ kLossSalt ^
                                   SplitMix64(sequence * lanes_.size() + lane));
  return static_cast<double>(draw >> 11) * 0x1.0p-53 < options_.loss;
}

absl::Status SimNetwork::Inject(const Endpoint& from, const Endpoint& to,
                                std::span<const uint8_t> datagram) {
  if (datagram.size() > kMaxDatagramBytes) return TooBig(datagram.size());
  assert(sim_lanes_ == nullptr || !sim_lanes_->windowed());
  const std::optional<uint32_t> dest = HostAt(to);
  Lane& lane = LaneOf(dest.value_or(0));
  ++lane.stats.datagrams_injected;
  if (!dest) {
    ++lane.stats.dropped_unknown_destination;
    return absl::OkStatus();
  }
  const uint32_t slot =
      Park(lane, kForeignSource, *dest, lane.buffers.Copy(datagram),
           static_cast<uint32_t>(datagram.size()));
  lane.injected_from.emplace(slot, from);
  lane.clock->ScheduleEvent(link_.OneWayDelay(from, to), lane.sink, slot);
  return absl::OkStatus();
}

void SimNetwork::Enqueue(Lane& sender, uint32_t from, uint32_t to,
                         std::span<const uint8_t> datagram) {
  Lane& receiver = LaneOf(to);
  std::unique_ptr<uint8_t[]> bytes = sender.buffers.Copy(datagram);
  const auto size = static_cast<uint32_t>(datagram.size());
  const absl::Duration delay =
      link_.OneWayDelay(EndpointOf(from), EndpointOf(to));
  if (&receiver != &sender && sim_lanes_->windowed()) {
    // The receiver's lane runs on another thread: hand it over at the
    // window's end (the delay outlasts the window).
    sender.outbox[receiver.index].push_back(Crossing{
        sender.clock->Now() + delay, std::move(bytes), size, from, to});
    return;
  }
  // Merged or one lane: every lane is at the sender's time.
  const uint32_t slot = Park(receiver, from, to, std::move(bytes), size);
  receiver.clock->ScheduleEvent(delay, receiver.sink, slot);
}

void SimNetwork::AtWindowEnd() {
  for (const std::unique_ptr<Lane>& receiver : lanes_) {
    const absl::Time now = receiver->clock->Now();
    for (const std::unique_ptr<Lane>& sender : lanes_) {
      std::vector<Crossing>& crossings = sender->outbox[receiver->index];
      for (Crossing& c : crossings) {
        const uint32_t slot =
            Park(*receiver, c.from, c.to, std::move(c.bytes), c.size);
        receiver->clock->ScheduleEvent(c.due - now, receiver->sink, slot);
      }
      crossings.clear();
    }
  }
}

uint32_t SimNetwork::Park(Lane& lane, uint32_t from, uint32_t to,
                          std::unique_ptr<uint8_t[]> bytes, uint32_t size) {
  uint32_t slot = lane.free_head;
  if (slot == kNoSlot) {
    slot = static_cast<uint32_t>(lane.in_flight.size());
    lane.in_flight.emplace_back();
  } else {
    lane.free_head = lane.in_flight[slot].next_free;
  }
  InFlight& packet = lane.in_flight[slot];
  packet.bytes = std::move(bytes);
  packet.size = size;
  packet.from = from;
  packet.to = to;
  ++lane.in_flight_count;
  return slot;
}

void SimNetwork::Release(Lane& lane, uint32_t slot) {
  InFlight& packet = lane.in_flight[slot];
  lane.buffers.Give(std::move(packet.bytes), packet.size);
  packet.next_free = lane.free_head;
  lane.free_head = slot;
}

size_t SimNetwork::BufferPool::ClassOf(size_t size) {
  return size > kClasses * kClassBytes
             ? kClasses
             : (std::max<size_t>(size, 1) - 1) / kClassBytes;
}

std::unique_ptr<uint8_t[]> SimNetwork::BufferPool::Take(size_t size) {
  const size_t c = ClassOf(size);
  if (c == kClasses) return std::make_unique_for_overwrite<uint8_t[]>(size);
  if (spare_[c].empty()) {
    return std::make_unique_for_overwrite<uint8_t[]>((c + 1) * kClassBytes);
  }
  std::unique_ptr<uint8_t[]> buffer = std::move(spare_[c].back());
  spare_[c].pop_back();
  --spare_count_;
  return buffer;
}

std::unique_ptr<uint8_t[]> SimNetwork::BufferPool::Copy(
    std::span<const uint8_t> bytes) {
  std::unique_ptr<uint8_t[]> buffer = Take(bytes.size());
  std::copy(bytes.begin(), bytes.end(), buffer.get());
  return buffer;
}

void SimNetwork::BufferPool::Give(std::unique_ptr<uint8_t[]> buffer,
                                  size_t size) {
  const size_t c = ClassOf(size);
  if (c == kClasses || spare_count_ == kMaxSpareBuffers) return;
  spare_[c].push_back(std::move(buffer));
  ++spare_count_;
}

void SimNetwork::OnEvent(Lane& lane, uint32_t token) {
  // The slot stays taken until the handler returns: the handler may send,
  // which parks datagrams in other slots (growing the slab moves the slot
  // records but not their buffers, so `datagram` stays valid).
  const InFlight& packet = lane.in_flight[token];
  const std::span<const uint8_t> datagram(packet.bytes.get(), packet.size);
  const uint32_t from = packet.from;
  const uint32_t to = packet.to;
  --lane.in_flight_count;  // Counts datagrams not yet handed over.
  std::optional<Endpoint> foreign;
  if (from == kForeignSource) {
    auto it = lane.injected_from.find(token);
    foreign = it->second;
    lane.injected_from.erase(it);
  }

  Host& host = hosts_[to];
  if (host.state != HostState::kUp || !host.transport->handler_) {
    ++lane.stats.dropped_receiver_down;
  } else {
    ++lane.stats.datagrams_delivered;
    lane.stats.bytes_delivered += datagram.size();
    host.transport->handler_(foreign ? *foreign : EndpointOf(from), datagram);
  }
  Release(lane, token);
}

}  // namespace kad::net

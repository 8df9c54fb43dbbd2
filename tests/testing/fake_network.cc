#include "tests/testing/fake_network.h"

#include "absl/status/status.h"

namespace kad::testing {

FakeTransport::FakeTransport(FakeNetwork& network, net::Endpoint local)
    : network_(network), local_(local) {
  network_.Register(this);
}

FakeTransport::~FakeTransport() { network_.Unregister(this); }

absl::Status FakeTransport::Send(const net::Endpoint& to,
                                 std::span<const uint8_t> datagram) {
  if (!attached_) return absl::UnavailableError("transport detached");
  network_.Inject(local_, to, {datagram.begin(), datagram.end()});
  return absl::OkStatus();
}

void FakeTransport::Deliver(const net::Endpoint& from,
                            const std::vector<uint8_t>& bytes) {
  if (attached_ && handler_) handler_(from, bytes);
}

std::unique_ptr<FakeTransport> FakeNetwork::NewTransport() {
  uint32_t host = next_host_++;
  net::Endpoint local = net::Endpoint::Ipv4(
      {10, static_cast<uint8_t>(host >> 16), static_cast<uint8_t>(host >> 8),
       static_cast<uint8_t>(host)},
      4222);
  return std::make_unique<FakeTransport>(*this, local);
}

void FakeNetwork::Inject(const net::Endpoint& from, const net::Endpoint& to,
                         std::vector<uint8_t> bytes) {
  if (loss_ > 0 && std::uniform_real_distribution<double>(0, 1)(gen_) < loss_) {
    return;
  }
  clock_.Schedule(latency_, [this, from, to, bytes = std::move(bytes)] {
    auto it = transports_.find(to);
    if (it == transports_.end()) return;
    ++delivered_;
    it->second->Deliver(from, bytes);
  });
}

void FakeNetwork::Register(FakeTransport* transport) {
  transports_[transport->local_endpoint()] = transport;
}

void FakeNetwork::Unregister(FakeTransport* transport) {
  transports_.erase(transport->local_endpoint());
}

}  // namespace kad::testing

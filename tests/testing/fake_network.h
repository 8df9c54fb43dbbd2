// FakeNetwork: in-memory datagram delivery between FakeTransports, in the
// virtual time of a FakeClock, for unit tests of protocol code.
//
// Each datagram is delivered after `latency` unless dropped by the loss
// rate (drawn from a seeded generator) or because its destination is
// detached or unknown. Deterministic for a given seed and call order.
//
// Not thread-safe.
#ifndef KAD_TESTS_TESTING_FAKE_NETWORK_H_
#define KAD_TESTS_TESTING_FAKE_NETWORK_H_

#include <map>
#include <memory>
#include <random>
#include <vector>

#include "net/endpoint.h"
#include "net/transport.h"
#include "tests/testing/fake_clock.h"

namespace kad::testing {

class FakeNetwork;

class FakeTransport : public net::Transport {
 public:
  FakeTransport(FakeNetwork& network, net::Endpoint local);
  ~FakeTransport() override;

  absl::Status Send(const net::Endpoint& to,
                    std::span<const uint8_t> datagram) override;
  void SetReceiveHandler(ReceiveHandler handler) override {
    handler_ = std::move(handler);
  }
  net::Endpoint local_endpoint() const override { return local_; }

  // Hands a datagram to the receive handler (called by the network).
  void Deliver(const net::Endpoint& from, const std::vector<uint8_t>& bytes);
  // A detached transport neither sends nor receives (a crashed node).
  void set_attached(bool attached) { attached_ = attached; }
  bool attached() const { return attached_; }

 private:
  FakeNetwork& network_;
  net::Endpoint local_;
  ReceiveHandler handler_;
  bool attached_ = true;
};

class FakeNetwork {
 public:
  FakeNetwork(FakeClock& clock, absl::Duration latency = absl::Milliseconds(10),
              double loss = 0.0, uint64_t seed = 1)
      : clock_(clock), latency_(latency), loss_(loss), gen_(seed) {}

  // Creates a transport at 10.x.y.z:4222 (a fresh address each call).
  std::unique_ptr<FakeTransport> NewTransport();
  // Sends raw bytes to `to`, as an attacker or a test would.
  void Inject(const net::Endpoint& from, const net::Endpoint& to,
              std::vector<uint8_t> bytes);

  FakeClock& clock() { return clock_; }
  void set_loss(double loss) { loss_ = loss; }
  uint64_t delivered() const { return delivered_; }

 private:
  friend class FakeTransport;
  void Register(FakeTransport* transport);
  void Unregister(FakeTransport* transport);

  FakeClock& clock_;
  absl::Duration latency_;
  double loss_;
  std::mt19937_64 gen_;
  uint32_t next_host_ = 1;
  uint64_t delivered_ = 0;
  std::map<net::Endpoint, FakeTransport*> transports_;
};

}  // namespace kad::testing

#endif  // KAD_TESTS_TESTING_FAKE_NETWORK_H_

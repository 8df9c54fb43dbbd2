// Micro-benchmark of the simulator alone (net/sim_clock, net/sim_network,
// net/link_model): what one simulated event costs with no protocol on top.
//
// Every host keeps three requests in flight, as an RPC client would: it
// sends a 64-byte request to a random host and schedules a 2 s timeout;
// the host answers with a 1,000-byte reply, on which the requester cancels
// the timeout and sends its next request. Every host also runs a 60 s
// refresh timer, as nodes do, so the queue mixes short datagram delays,
// cancelled timeouts and long timers the way a simulated overlay's does.
// One iteration runs one event (a delivery, or a timer).
//
// Run: build/bench/kad_sim_micro_bench
#include <benchmark/benchmark.h>

#include <array>
#include <memory>
#include <random>
#include <vector>

#include "net/sim_clock.h"
#include "net/sim_network.h"

namespace kad::net {
namespace {

constexpr int kLanes = 3;  // Requests in flight per host.
constexpr size_t kRequestBytes = 64;
constexpr size_t kReplyBytes = 1000;

class RequestLoad {
 public:
  explicit RequestLoad(int hosts) : network_(clock_, SimNetworkOptions{}) {
    hosts_.resize(hosts);
    for (int h = 0; h < hosts; ++h) {
      hosts_[h].transport = network_.NewTransport();
      hosts_[h].transport->SetReceiveHandler(
          [this, h](const Endpoint& from, std::span<const uint8_t> bytes) {
            OnDatagram(h, from, bytes);
          });
    }
    for (int h = 0; h < hosts; ++h) {
      for (int lane = 0; lane < kLanes; ++lane) SendRequest(h, lane);
      Refresh(h);
    }
  }
  SimClock& clock() { return clock_; }

 private:
  struct Host {
    std::unique_ptr<SimTransport> transport;
    std::array<TimerId, kLanes> timeouts{};
  };

  void SendRequest(int h, int lane) {
    std::array<uint8_t, kRequestBytes> request{};
    request[1] = static_cast<uint8_t>(lane);
    const int to = static_cast<int>(gen_() % hosts_.size());
    (void)hosts_[h].transport->Send(hosts_[to].transport->local_endpoint(),
                                    request);
    hosts_[h].timeouts[lane] = clock_.Schedule(
        absl::Seconds(2), [this, h, lane] { SendRequest(h, lane); });
  }
  void OnDatagram(int h, const Endpoint& from, std::span<const uint8_t> bytes) {
    const int lane = bytes[1];
    if (bytes[0] == 0) {
      std::array<uint8_t, kReplyBytes> reply{};
      reply[0] = 1;
      reply[1] = static_cast<uint8_t>(lane);
      (void)hosts_[h].transport->Send(from, reply);
      return;
    }
    clock_.Cancel(hosts_[h].timeouts[lane]);
    SendRequest(h, lane);
  }
  void Refresh(int h) {
    clock_.Schedule(absl::Seconds(60) + absl::Milliseconds(gen_() % 1000),
                    [this, h] { Refresh(h); });
  }

  SimClock clock_;
  SimNetwork network_;
  std::mt19937_64 gen_{1};
  std::vector<Host> hosts_;
};

void BM_SimEvent(benchmark::State& state) {
  RequestLoad load(static_cast<int>(state.range(0)));
  load.clock().RunFor(absl::Seconds(3));  // Past the start-up burst.
  for (auto _ : state) load.clock().RunNext();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SimEvent)->Arg(1000)->Arg(10'000)->Arg(100'000);

}  // namespace
}  // namespace kad::net

BENCHMARK_MAIN();

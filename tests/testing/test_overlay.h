// TestOverlay: n Nodes on a FakeNetwork in virtual time, bootstrapped off
// the first one, with helpers to run operations to completion.
//
// Not thread-safe.
#ifndef KAD_TESTS_TESTING_TEST_OVERLAY_H_
#define KAD_TESTS_TESTING_TEST_OVERLAY_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "dht/node.h"
#include "storage/memory_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_network.h"

namespace kad::testing {

struct OverlayMember {
  std::unique_ptr<FakeTransport> transport;
  std::unique_ptr<storage::MemoryStore> store;
  std::unique_ptr<dht::Node> node;
};

class TestOverlay {
 public:
  explicit TestOverlay(double loss = 0.0, uint64_t seed = 1)
      : network_(clock_, absl::Milliseconds(10), loss, seed), seed_(seed) {}

  // Adds a node (read-only if asked) and starts it; does not bootstrap.
  dht::Node& AddNode(dht::NodeOptions options = {});
  // Adds `n` nodes, bootstrapping each off the first, one after another.
  void Grow(int n, dht::NodeOptions options = {});

  // Runs `start(callback)` and the clock until the callback fires (or ten
  // virtual minutes pass: a hang becomes a test failure, not a timeout).
  template <typename T, typename Start>
  absl::StatusOr<T> Run(Start start) {
    std::optional<absl::StatusOr<T>> result;
    start([&](absl::StatusOr<T> r) { result = std::move(r); });
    const absl::Time deadline = clock_.Now() + absl::Minutes(10);
    while (!result && clock_.Now() < deadline && clock_.RunNext()) {
    }
    return result ? *std::move(result)
                  : absl::StatusOr<T>(absl::InternalError("never finished"));
  }

  dht::Node& node(size_t i) { return *members_[i].node; }
  OverlayMember& member(size_t i) { return members_[i]; }
  size_t size() const { return members_.size(); }
  FakeClock& clock() { return clock_; }
  FakeNetwork& network() { return network_; }

 private:
  FakeClock clock_;
  FakeNetwork network_;
  uint64_t seed_;
  std::vector<OverlayMember> members_;
};

}  // namespace kad::testing

#endif  // KAD_TESTS_TESTING_TEST_OVERLAY_H_

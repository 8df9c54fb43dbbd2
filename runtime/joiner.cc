#include "runtime/joiner.h"

#include <string>
#include <utility>

#include "spdlog/spdlog.h"

namespace kad::runtime {

Joiner::Joiner(dht::Node& node, net::Clock& clock,
               std::vector<net::Endpoint> seeds, dht::RejoinOptions options,
               uint64_t seed)
    : node_(node),
      clock_(clock),
      seeds_(std::move(seeds)),
      policy_(options),
      gen_(seed),
      timers_(clock) {}

void Joiner::Start() {
  if (!seeds_.empty()) Attempt();
}

void Joiner::Attempt() {
  node_.Bootstrap(seeds_,
                  [this](absl::StatusOr<int> joined) { OnResult(joined); });
}

void Joiner::OnResult(const absl::StatusOr<int>& joined) {
  if (joined.ok()) {
    joined_ = true;
    policy_.OnSuccess();
    spdlog::info("joined: {} contacts", *joined);
    return;
  }
  const absl::Duration delay = policy_.OnFailure(clock_.Now(), gen_);
  spdlog::warn(
      "{}; serving anyway, retrying in {}",
      std::string(joined.status().message()),
      absl::FormatDuration(absl::Trunc(delay, absl::Milliseconds(100))));
  timers_.Schedule(delay, [this] { Attempt(); });
}

}  // namespace kad::runtime

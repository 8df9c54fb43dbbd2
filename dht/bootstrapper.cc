#include "dht/bootstrapper.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kad::dht {
namespace {

// Pings per seed before it counts as unreachable, and attempts at the
// joining self-lookup.
constexpr int kSeedPingAttempts = 3;

// The closest nodes a bucket refresh converges on (k/2 at the default k):
// it needs a route into the bucket's range, not the k closest to a random
// point in it. At full width its final widening asks ~16 nodes at once; a
// join's refreshes were 3/4 of its find_node requests.
constexpr int kRefreshWidth = 10;

}  // namespace

Bootstrapper::Bootstrapper(bool read_only, const NodeId& self,
                           RoutingTable& routing_table, LookupDriver& lookups,
                           Requester& requester, net::Clock& clock,
                           absl::BitGenRef gen)
    : read_only_(read_only),
      self_(self),
      routing_table_(routing_table),
      lookups_(lookups),
      requester_(requester),
      clock_(clock),
      gen_(gen),
      timers_(clock) {}

void Bootstrapper::Bootstrap(std::vector<net::Endpoint> seeds,
                             Callback<int> done) {
  if (join_) {
    return FailSoon(timers_, std::move(done),
                    absl::FailedPreconditionError(
                        "a bootstrap is already running"));
  }
  if (!seeds.empty()) last_seeds_ = seeds;
  join_ = Join{static_cast<int>(seeds.size()), 0, seeds, std::move(done)};
  if (seeds.empty()) {
    timers_.Schedule(absl::ZeroDuration(), [this] { Finish(); });
    return;
  }
  for (const net::Endpoint& seed : seeds) PingSeed(seed, 1);
}

bool Bootstrapper::RejoinIfCutOff() {
  if (routing_table_.size() > 0) return false;
  if (!join_ && !last_seeds_.empty() && rejoin_.Due(clock_.Now())) {
    Bootstrap(last_seeds_, [this](absl::StatusOr<int> joined) {
      if (joined.ok() && *joined > 0) {
        rejoin_.OnSuccess();
      } else {
        rejoin_.OnFailure(clock_.Now(), gen_);
      }
    });
  }
  return true;
}

void Bootstrapper::PingSeed(const net::Endpoint& seed, int attempt) {
  requester_.Send(
      seed, std::nullopt, dht::Ping{},
      {nullptr, [this, seed, attempt](absl::StatusOr<Message> answer) {
         const bool answered = answer.ok() && answer->sender.has_value();
         if (!answered && attempt < kSeedPingAttempts) {
           return PingSeed(seed, attempt + 1);
         }
         OnSeedPing(answered);
       }});
}

void Bootstrapper::OnSeedPing(bool answered) {
  join_->answered += answered ? 1 : 0;
  if (--join_->pings_outstanding > 0) return;
  if (!join_->seeds.empty() && join_->answered == 0) {
    std::vector<std::string> names;
    for (const auto& seed : join_->seeds) names.push_back(seed.ToString());
    auto done = std::move(join_->done);
    join_.reset();
    done(absl::UnavailableError(absl::StrCat(
        "no bootstrap node answered (tried ", absl::StrJoin(names, ", "), ")")));
    return;
  }
  if (read_only_) return Finish();
  LookUpSelf(1);
}

void Bootstrapper::LookUpSelf(int attempt) {
  // A self-lookup that no node answered (its few requests were lost) is
  // tried again: the seeds did answer a ping.
  lookups_.Start(self_, std::nullopt, [this, attempt](LookupRun& run) {
    const std::vector<Contact> closest = run.lookup.Closest();
    if (closest.empty() && attempt < kSeedPingAttempts) {
      return LookUpSelf(attempt + 1);
    }
    RefreshEmptyFartherBuckets(closest);
    Finish();
  });
}

void Bootstrapper::RefreshEmptyFartherBuckets(
    const std::vector<Contact>& closest) {
  // Ranges with a longer common prefix than the k-th closest found lie
  // wholly nearer than it: covered by the self-lookup.
  int covered_from = NodeId::kBits + 1;
  if (closest.size() >= static_cast<size_t>(lookups_.bucket_size())) {
    covered_from = self_.CommonPrefixLength(closest.back().id) + 1;
  }
  // A range holding an entry is one the self-lookup passed through.
  for (const NodeId& target :
       routing_table_.TargetsInEmptyFartherRanges(gen_)) {
    if (self_.CommonPrefixLength(target) >= covered_from) continue;
    lookups_.Start(
        target, std::nullopt, [](LookupRun&) {},
        /*satisfied=*/nullptr, /*paths=*/1, kRefreshWidth,
        LookupDriver::Urgency::kUpkeep);
  }
}

void Bootstrapper::Finish() {
  auto done = std::move(join_->done);
  join_.reset();
  done(static_cast<int>(routing_table_.size()));
}

}  // namespace kad::dht

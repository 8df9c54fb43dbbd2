#include "bench/lookup_phase.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dht/node.h"
#include "storage/record.h"

namespace kad::bench {
namespace {

LookupSample SampleOf(const dht::LookupStats& stats) {
  LookupSample sample;
  sample.hops = stats.hops;
  sample.messages = stats.rpcs;
  sample.bytes = stats.bytes;
  sample.latency = stats.elapsed;
  return sample;
}

}  // namespace

std::string KeyName(size_t key) { return absl::StrCat("bench-key-", key); }
std::string KeyValue(size_t key) { return absl::StrCat("bench-value-", key); }

LookupPhase::LookupPhase(BenchOverlay& overlay, IdIndex& live,
                         LookupPhaseOptions options)
    : overlay_(overlay),
      live_ids_(live),
      options_(std::move(options)),
      gen_(options_.seed ^ 0x6f726967696e),  // "origin"
      busy_(overlay.size(), 0) {
  live_.reserve(live.size());
  for (size_t i = 0; i < overlay.size(); ++i) {
    const std::vector<size_t> self = live.Closest(overlay.node(i).id(), 1);
    if (!self.empty() && self[0] == i) live_.push_back(i);
  }
}

size_t LookupPhase::StoreKeys(size_t count) {
  size_t failures = 0;
  RunWindow(count, [&](size_t i, size_t origin) {
    storage::Record record{KeyName(i), KeyValue(i), 1, absl::InfiniteFuture()};
    overlay_.node(origin).Put(
        std::move(record),
        [this, origin, &failures](absl::StatusOr<dht::PutResult> put) {
          if (!put.ok()) ++failures;
          Finish(origin);
        });
  });
  return failures;
}

std::vector<LookupRecord> LookupPhase::RunLookups(
    const std::vector<PlannedLookup>& plan) {
  std::vector<LookupRecord> records(plan.size());
  churn_base_ = live_.size();
  churning_ = options_.churn > 0 && overlay_.SupportsChurn();
  RunWindow(plan.size(), [&](size_t i, size_t origin) {
    records[i].kind = plan[i].kind;
    records[i].ran = true;
    records[i].origin = origin;
    if (plan[i].kind == LookupKind::kFindNode) {
      StartFindNode(origin, plan[i], records[i]);
    } else {
      StartGet(origin, plan[i], records[i]);
    }
  });
  churning_ = false;
  return records;
}

void LookupPhase::StartFindNode(size_t origin,
                                const PlannedLookup& planned,
                                LookupRecord& record) {
  const std::vector<size_t> truth = live_ids_.Closest(planned.target, 1, origin);
  record.truth = truth.empty() ? origin : truth[0];
  overlay_.node(origin).FindNode(
      planned.target,
      [this, origin, &record](absl::StatusOr<dht::LookupResult> found) {
        if (found.ok()) {
          record.sample = SampleOf(found->stats);
          record.sample.success =
              !found->closest.empty() &&
              found->closest[0].contact.id == overlay_.node(record.truth).id();
        }
        Finish(origin);
      });
}

void LookupPhase::StartGet(size_t origin, const PlannedLookup& planned,
                           LookupRecord& record) {
  overlay_.node(origin).Get(
      KeyName(planned.key),
      [this, origin, key = planned.key,
       &record](absl::StatusOr<dht::GetResult> got) {
        if (got.ok()) {
          record.sample = SampleOf(got->stats);
          record.sample.success = got->record.value == KeyValue(key);
        }
        Finish(origin);
      });
}

void LookupPhase::RunWindow(size_t count, Start start) {
  count_ = count;
  next_ = 0;
  finished_ = 0;
  running_ = 0;
  start_ = &start;
  StartMore();
  overlay_.RunUntil([this] {
    return running_ == 0 && joins_running_ == 0 &&
           (next_ >= count_ || stopped());
  });
  start_ = nullptr;
}

void LookupPhase::StartMore() {
  while (running_ < options_.in_flight && next_ < count_ && !stopped()) {
    const size_t i = next_++;
    if (churning_) ChurnBefore(i, count_);
    const size_t origin = PickOrigin();
    ++busy_[origin];
    ++running_;
    (*start_)(i, origin);
  }
}

void LookupPhase::Finish(size_t origin) {
  --busy_[origin];
  --running_;
  ++finished_;
  if (options_.progress) options_.progress(finished_);
  StartMore();
}

size_t LookupPhase::PickOrigin() {
  for (;;) {
    const size_t origin = live_[gen_() % live_.size()];
    if (!options_.may_originate || options_.may_originate(origin)) {
      return origin;
    }
  }
}

void LookupPhase::ChurnBefore(size_t lookup, size_t lookups) {
  const auto total = static_cast<size_t>(
      std::llround(options_.churn * static_cast<double>(churn_base_)));
  const size_t due = total * (lookup + 1) / lookups;
  while (churn_steps_ < due) {
    ++churn_steps_;
    ReplaceOne();
  }
}

void LookupPhase::ReplaceOne() {
  if (live_.size() < 2) return;
  // The first live node from a random position that originates nothing
  // running (its lookup would fail for reasons of our making).
  const size_t from = gen_() % live_.size();
  size_t slot = live_.size();
  for (size_t k = 0; k < live_.size(); ++k) {
    const size_t candidate = (from + k) % live_.size();
    if (busy_[live_[candidate]] == 0) {
      slot = candidate;
      break;
    }
  }
  if (slot == live_.size()) return;
  const size_t victim = live_[slot];
  live_[slot] = live_.back();
  live_.pop_back();
  live_ids_.Remove(overlay_.node(victim).id());
  overlay_.Crash(victim);
  ++replaced_;

  dht::Node& fresh = overlay_.AddNode();
  const size_t index = overlay_.size() - 1;
  busy_.resize(overlay_.size(), 0);
  const net::Endpoint seed = overlay_.node(live_[gen_() % live_.size()]).endpoint();
  ++joins_running_;
  fresh.Bootstrap({seed}, [this, index](absl::StatusOr<int> joined) {
    --joins_running_;
    if (!joined.ok()) return;
    live_.push_back(index);
    live_ids_.Add(overlay_.node(index).id(), index);
  });
}

}  // namespace kad::bench

#include "dht/replication_driver.h"

#include <utility>

#include "dht/release_if_sparse.h"

namespace kad::dht {

ReplicationDriver::ReplicationDriver(ReplicationOptions options,
                                     const NodeId& self,
                                     const RoutingTable& routing_table,
                                     Requester& requester,
                                     const storage::RecordStore& store,
                                     net::Clock& clock, NodeStats& stats,
                                     absl::BitGenRef gen)
    : options_(options),
      routing_table_(routing_table),
      requester_(requester),
      store_(store),
      clock_(clock),
      stats_(stats),
      gen_(gen),
      replicator_(self, options.bucket_size),
      pace_(BucketFor(options.pace)),
      timers_(clock) {}

void ReplicationDriver::Start() { ScheduleRound(); }

void ReplicationDriver::ScheduleRound() {
  const absl::Duration interval = options_.replicate_interval;
  if (interval <= absl::ZeroDuration() ||
      interval == absl::InfiniteDuration()) {
    return;  // Off (a zero interval would spin).
  }
  timers_.Schedule(replicator_.NextRoundDelay(interval, gen_), [this] {
    Round();
    ScheduleRound();
  });
}

std::vector<RecordSummary> ReplicationDriver::HeldSummaries() const {
  std::vector<RecordSummary> held;
  store_.ForEach(clock_.Now(), [&held](const storage::Record& record) {
    held.push_back(SummaryOf(record));
  });
  return held;
}

void ReplicationDriver::Round() {
  ++stats_.replication_rounds;
  for (OfferPlan& plan :
       replicator_.PlanRound(HeldSummaries(), routing_table_)) {
    Enqueue(std::move(plan));
  }
}

void ReplicationDriver::OnContactAdded(const Contact& contact) {
  if (options_.handoff_delay == absl::InfiniteDuration()) return;
  if (replicator_.QueueHandoff(contact, clock_.Now(),
                               [this] { return store_.stats().records > 0; })) {
    timers_.Schedule(options_.handoff_delay, [this] { FlushHandoffs(); });
  }
}

void ReplicationDriver::FlushHandoffs() {
  // With nothing held (a joining node admits many contacts) the plan is
  // empty; it still has to run, to empty the queue.
  std::vector<RecordSummary> held;
  if (store_.stats().records > 0) held = HeldSummaries();
  for (OfferPlan& plan : replicator_.PlanHandoffs(held, routing_table_)) {
    Enqueue(std::move(plan));
  }
}

void ReplicationDriver::Enqueue(OfferPlan plan) {
  const NodeId peer = plan.peer.id;
  std::deque<OfferPlan>& queue = queued_[peer];
  queue.push_back(std::move(plan));
  if (queue.size() == 1 && !in_flight_.contains(peer)) turns_.push_back(peer);
  Pump();
}

void ReplicationDriver::Pump() {
  while (turns_head_ < turns_.size()) {
    const int64_t now = TokenBucket::Nanos(clock_.Now());
    const int64_t next = pace_.Next(pace_ready_ns_, now);
    if (!pace_.Allowed(next, now)) {
      if (!pump_scheduled_) {
        pump_scheduled_ = true;
        timers_.Schedule(absl::Seconds(1.0 / options_.pace->per_second),
                         [this] {
                           pump_scheduled_ = false;
                           Pump();
                         });
      }
      return;
    }
    pace_ready_ns_ = next;
    const NodeId peer = turns_[turns_head_++];
    auto queued = queued_.find(peer);
    OfferPlan plan = std::move(queued->second.front());
    queued->second.pop_front();
    if (queued->second.empty()) {
      queued_.erase(queued);
      ReleaseIfSparse(queued_);
    }
    SendOffer(std::move(plan));
  }
  turns_.clear();
  turns_.shrink_to_fit();
  turns_head_ = 0;
}

void ReplicationDriver::SendOffer(OfferPlan plan) {
  ++stats_.offers_sent;
  stats_.summaries_offered += plan.offer.summaries.size();
  std::vector<std::string> keys;
  keys.reserve(plan.offer.summaries.size());
  for (const RecordSummary& summary : plan.offer.summaries) {
    keys.push_back(summary.key);
  }
  const Contact peer = plan.peer;
  Send(peer, std::move(plan.offer),
       [this, peer, keys = std::move(keys)](absl::StatusOr<Message> answer) {
         OnOfferAnswer(peer, keys, answer);
       });
}

void ReplicationDriver::OnOfferAnswer(const Contact& peer,
                                      const std::vector<std::string>& keys,
                                      const absl::StatusOr<Message>& answer) {
  if (!answer.ok()) return;
  const auto* reply = std::get_if<OfferReply>(&answer->body);
  if (reply == nullptr) return;  // An error: the peer wants nothing.
  for (uint32_t index : reply->wanted) {
    if (index >= keys.size()) break;  // Ascending: the rest are bad too.
    // The current version: it may have changed since the offer.
    auto record = store_.Get(keys[index], clock_.Now());
    if (!record.ok()) continue;  // Expired since the offer.
    ++stats_.records_pushed;
    // Pushes are paced too: they draw on the bucket (into debt if need
    // be), so the next offers wait for them.
    pace_ready_ns_ =
        pace_.Next(pace_ready_ns_, TokenBucket::Nanos(clock_.Now()));
    Send(peer, Store{*std::move(record), reply->token},
         [](absl::StatusOr<Message>) {});
  }
}

void ReplicationDriver::Send(
    const Contact& peer, Body body,
    absl::AnyInvocable<void(absl::StatusOr<Message>)> on_done) {
  ++in_flight_[peer.id];
  RpcHandlers handlers{
      nullptr, [this, id = peer.id, on_done = std::move(on_done)](
                   absl::StatusOr<Message> answer) mutable {
        on_done(std::move(answer));  // May push: the peer stays busy.
        OnExchangeDone(id);
      }};
  handlers.on_traffic = [this](size_t bytes) {
    stats_.maintenance_bytes += bytes;
  };
  requester_.Send(peer.endpoint, peer.id, std::move(body), std::move(handlers));
}

void ReplicationDriver::OnExchangeDone(const NodeId& peer) {
  auto it = in_flight_.find(peer);
  if (--it->second > 0) return;
  in_flight_.erase(it);
  ReleaseIfSparse(in_flight_);
  if (queued_.contains(peer)) {
    turns_.push_back(peer);
    Pump();
  }
}

}  // namespace kad::dht

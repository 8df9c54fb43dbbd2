// Record maintenance: the node sends the offers its Replicator plans
// (periodic rounds, hand-offs to newly admitted contacts) and pushes, as
// Store with the token the peer handed back, only the records the peer
// said it wants. Unchanged records cost a summary, never their value.
//
// Accounting: the node that offers counts the whole exchange in
// NodeStats::maintenance_bytes — its offers and pushed stores as sent, and
// the replies to them re-encoded (the codec's encoding is canonical, so
// that is their size on the wire) — so an overlay's total is the sum over
// its nodes, each byte counted once.
#include <string>
#include <utility>
#include <vector>

#include "dht/node_impl.h"
#include "dht/wire_codec.h"

namespace kad::dht {

void Node::Impl::ScheduleReplication() {
  const absl::Duration interval = options_.replicate_interval;
  if (interval <= absl::ZeroDuration() ||
      interval == absl::InfiniteDuration()) {
    return;  // Off (a zero interval would spin).
  }
  timers_.Schedule(replicator_.NextRoundDelay(interval, gen_), [this] {
    ReplicateRound();
    ScheduleReplication();
  });
}

std::vector<RecordSummary> Node::Impl::HeldSummaries() const {
  std::vector<RecordSummary> held;
  store_.ForEach(clock_.Now(), [&held](const storage::Record& record) {
    held.push_back(SummaryOf(record));
  });
  return held;
}

void Node::Impl::ReplicateRound() {
  ++node_.stats_.replication_rounds;
  for (OfferPlan& plan :
       replicator_.PlanRound(HeldSummaries(), *node_.routing_table_)) {
    SendOffer(std::move(plan));
  }
}

void Node::Impl::OnContactAdded(const Contact& contact) {
  if (options_.read_only ||
      options_.handoff_delay == absl::InfiniteDuration()) {
    return;
  }
  if (replicator_.QueueHandoff(contact)) {
    timers_.Schedule(options_.handoff_delay, [this] { FlushHandoffs(); });
  }
}

void Node::Impl::FlushHandoffs() {
  // With nothing held (a joining node admits many contacts) the plan is
  // empty; it still has to run, to empty the queue.
  std::vector<RecordSummary> held;
  if (store_.stats().records > 0) held = HeldSummaries();
  for (OfferPlan& plan :
       replicator_.PlanHandoffs(held, *node_.routing_table_)) {
    SendOffer(std::move(plan));
  }
}

void Node::Impl::SendOffer(OfferPlan plan) {
  NodeStats& stats = node_.stats_;
  ++stats.offers_sent;
  stats.summaries_offered += plan.offer.summaries.size();
  std::vector<std::string> keys;
  keys.reserve(plan.offer.summaries.size());
  for (const RecordSummary& summary : plan.offer.summaries) {
    keys.push_back(summary.key);
  }
  const uint64_t bytes_before = stats.bytes_out;
  const Contact peer = plan.peer;
  Request(peer.endpoint, peer.id, std::move(plan.offer),
          {nullptr, [this, peer,
                     keys = std::move(keys)](absl::StatusOr<Message> answer) {
             OnOfferAnswer(peer, keys, answer);
           }});
  stats.maintenance_bytes += stats.bytes_out - bytes_before;
}

void Node::Impl::OnOfferAnswer(const Contact& peer,
                               const std::vector<std::string>& keys,
                               const absl::StatusOr<Message>& answer) {
  CountMaintenanceReply(answer);
  if (!answer.ok()) return;
  const auto* reply = std::get_if<OfferReply>(&answer->body);
  if (reply == nullptr) return;  // An error: the peer wants nothing.
  NodeStats& stats = node_.stats_;
  for (uint32_t index : reply->wanted) {
    if (index >= keys.size()) break;  // Ascending: the rest are bad too.
    // The current version: it may have changed since the offer.
    auto record = store_.Get(keys[index], clock_.Now());
    if (!record.ok()) continue;  // Expired since the offer.
    ++stats.records_pushed;
    const uint64_t bytes_before = stats.bytes_out;
    Request(peer.endpoint, peer.id, Store{*std::move(record), reply->token},
            {nullptr, [this](absl::StatusOr<Message> stored) {
               CountMaintenanceReply(stored);
             }});
    stats.maintenance_bytes += stats.bytes_out - bytes_before;
  }
}

void Node::Impl::CountMaintenanceReply(const absl::StatusOr<Message>& answer) {
  if (!answer.ok()) return;
  if (auto bytes = EncodeMessage(*answer, clock_.Now()); bytes.ok()) {
    node_.stats_.maintenance_bytes += bytes->size();
  }
}

}  // namespace kad::dht

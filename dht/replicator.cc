#include "dht/replicator.h"

#include <algorithm>
#include <utility>

#include "absl/container/btree_map.h"
#include "dht/wire_codec.h"

namespace kad::dht {
namespace {

// Summaries bound for one peer, before they are cut into datagrams.
struct PeerBatch {
  Contact peer;
  std::vector<RecordSummary> summaries;
};

// Keyed by peer id: iteration in id order keeps plans deterministic.
using Batches = absl::btree_map<NodeId, PeerBatch>;

void Add(Batches& batches, const Contact& peer, const RecordSummary& summary) {
  PeerBatch& batch = batches[peer.id];
  batch.peer = peer;
  batch.summaries.push_back(summary);
}

// Cuts each peer's summaries into offers that fit one datagram.
std::vector<OfferPlan> Pack(Batches batches) {
  std::vector<OfferPlan> plans;
  for (auto& [id, batch] : batches) {
    OfferPlan plan{batch.peer, {}};
    size_t bytes = 0;
    for (RecordSummary& summary : batch.summaries) {
      const size_t size = OfferSummaryBytes(summary);
      if (plan.offer.summaries.size() == kMaxOfferSummaries ||
          bytes + size > kOfferSummaryBudget) {
        plans.push_back(std::move(plan));
        plan = OfferPlan{batch.peer, {}};
        bytes = 0;
      }
      bytes += size;
      plan.offer.summaries.push_back(std::move(summary));
    }
    if (!plan.offer.summaries.empty()) plans.push_back(std::move(plan));
  }
  return plans;
}

storage::RecordVersion VersionOf(const RecordSummary& summary) {
  return storage::RecordVersion{summary.seq, summary.digest};
}

}  // namespace

RecordSummary SummaryOf(const storage::Record& record) {
  return RecordSummary{record.key, record.seq, storage::DigestOf(record)};
}

Replicator::Replicator(const NodeId& self, int bucket_size)
    : self_(self), replicas_(static_cast<size_t>(std::max(bucket_size, 1))) {}

absl::Duration Replicator::NextRoundDelay(absl::Duration interval,
                                          absl::BitGenRef gen) {
  const double low = first_round_ ? 0.5 : 0.9;
  const double high = first_round_ ? 1.5 : 1.1;
  first_round_ = false;
  return interval * std::uniform_real_distribution<double>(low, high)(gen);
}

std::vector<Contact> Replicator::Replicas(const NodeId& key_id,
                                          const RoutingTable& table) const {
  std::vector<Contact> closest = table.Closest(key_id, replicas_);
  // This node takes one of the k places if it is closer than the last.
  if (closest.size() == replicas_ &&
      CloserTo{key_id}(self_, closest.back().id)) {
    closest.pop_back();
  }
  return closest;
}

std::vector<OfferPlan> Replicator::PlanRound(
    const std::vector<RecordSummary>& held, const RoutingTable& table) {
  Batches batches;
  for (const RecordSummary& summary : held) {
    auto offered = offered_.find(summary.key);
    if (offered != offered_.end() && offered->second >= VersionOf(summary)) {
      continue;  // Another replica did this round's work for it.
    }
    for (const Contact& peer : Replicas(NodeId::ForKey(summary.key), table)) {
      Add(batches, peer, summary);
    }
  }
  offered_.clear();
  return Pack(std::move(batches));
}

void Replicator::NoteOffered(const Offer& offer, const OfferReply& reply) {
  for (size_t i = 0; i < offer.summaries.size(); ++i) {
    if (std::binary_search(reply.wanted.begin(), reply.wanted.end(), i)) {
      continue;
    }
    const RecordSummary& summary = offer.summaries[i];
    auto [it, inserted] = offered_.try_emplace(summary.key, VersionOf(summary));
    if (!inserted) it->second = std::max(it->second, VersionOf(summary));
  }
}

bool Replicator::QueueHandoff(const Contact& contact, absl::Time now,
                              absl::FunctionRef<bool()> holding) {
  // The plan takes every entry seen since unlisted_since_: this one too.
  if (unlisted_since_) return false;
  const bool was_empty = handoffs_.empty();
  if (!holding()) {
    unlisted_since_ = now;
  } else if (handoffs_.size() < kMaxQueuedHandoffs &&
             std::find(handoffs_.begin(), handoffs_.end(), contact.id) ==
                 handoffs_.end()) {
    handoffs_.push_back(contact.id);
  }
  return was_empty && (!handoffs_.empty() || unlisted_since_);
}

std::vector<OfferPlan> Replicator::PlanHandoffs(
    const std::vector<RecordSummary>& held, const RoutingTable& table) {
  std::vector<NodeId> queued = std::move(handoffs_);
  handoffs_.clear();
  if (unlisted_since_) {
    if (!held.empty()) {
      std::vector<NodeId> seen = table.IdsSeenSince(*unlisted_since_);
      queued.insert(queued.end(), seen.begin(), seen.end());
    }
    unlisted_since_.reset();
  }
  std::sort(queued.begin(), queued.end());
  queued.erase(std::unique(queued.begin(), queued.end()), queued.end());
  Batches batches;
  for (const RecordSummary& summary : held) {
    for (const Contact& peer : Replicas(NodeId::ForKey(summary.key), table)) {
      if (std::binary_search(queued.begin(), queued.end(), peer.id)) {
        Add(batches, peer, summary);
      }
    }
  }
  return Pack(std::move(batches));
}

}  // namespace kad::dht

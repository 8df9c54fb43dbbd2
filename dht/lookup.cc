#include "dht/lookup.h"

#include <algorithm>

namespace kad::dht {

Lookup::Lookup(const NodeId& target, LookupOptions options,
               std::span<const Contact> seeds, std::optional<NodeId> self)
    : target_(target), options_(options), self_(self) {
  for (const Contact& seed : seeds) Add(seed, /*depth=*/1);
}

Lookup::Rank Lookup::RankOf(const NodeId& id) const {
  const DistanceKey distance = id.DistanceKeyTo(target_);
  return Rank{distance.high, distance.middle, distance.low};
}

std::vector<Lookup::Rank>::const_iterator Lookup::LowerBound(
    const Rank& rank) const {
  return std::lower_bound(
      ranks_.begin(), ranks_.end(), rank,
      [](const Rank& a, const Rank& b) { return a.Closer(b); });
}

bool Lookup::Add(const Contact& contact, int depth) {
  if (self_ && contact.id == *self_) return false;
  Rank rank = RankOf(contact.id);
  const auto at = LowerBound(rank);
  if (at != ranks_.end() && at->SameDistance(rank)) {
    Candidate& known = candidates_[at->index];
    known.depth = std::min(known.depth, depth);
    return false;
  }
  rank.index = static_cast<uint32_t>(candidates_.size());
  ranks_.insert(at, rank);
  candidates_.push_back(Candidate{contact, State::kNew, depth});
  if (!net::AnyContains(options_.prefix_limit_exempt, contact.endpoint)) {
    LimitPrefixOf(contact.endpoint);
  }
  return true;
}

void Lookup::LimitPrefixOf(const net::Endpoint& endpoint) {
  int seen = 0;
  for (const Rank& rank : ranks_) {
    Candidate& candidate = candidates_[rank.index];
    if (!net::SamePrefix(candidate.contact.endpoint, endpoint) ||
        net::AnyContains(options_.prefix_limit_exempt,
                         candidate.contact.endpoint)) {
      continue;
    }
    candidate.excess = ++seen > options_.max_per_subnet;
  }
}

int Lookup::AddSeeds(std::span<const Contact> seeds) {
  int added = 0;
  for (const Contact& seed : seeds) added += Add(seed, /*depth=*/1) ? 1 : 0;
  return added;
}

Lookup::Candidate* Lookup::FindCandidate(const NodeId& id) {
  const Rank rank = RankOf(id);
  const auto at = LowerBound(rank);
  return at != ranks_.end() && at->SameDistance(rank)
             ? &candidates_[at->index]
             : nullptr;
}

bool Lookup::Widened() const {
  return widened_ || replies_without_progress_ >= options_.parallelism;
}

int Lookup::SlotLimit() const {
  // Without progress: all the k closest at once (and the spares).
  return Widened() ? options_.bucket_size + options_.spare
                   : options_.parallelism;
}

std::optional<Contact> Lookup::NextToQuery() {
  if (in_flight_ >= SlotLimit() || capped() || Done()) return std::nullopt;
  const bool widened = Widened();
  const int places = options_.bucket_size + (widened ? options_.spare : 0);
  int taken = 0;
  int covered = 0;  // Slow candidates the spares cover (see the rules).
  bool replied = false;
  for (const Rank& rank : ranks_) {
    Candidate& candidate = candidates_[rank.index];
    if (!HoldsPlace(candidate, replied)) {
      if (!(widened && candidate.state == State::kSlow && !candidate.excess &&
            covered < options_.spare)) {
        continue;
      }
      ++covered;  // Still takes a place to ask: a spare already covers it.
    }
    if (++taken > places) break;
    if (candidate.state == State::kReplied) replied = true;
    if (candidate.state == State::kNew) {
      candidate.state = State::kInFlight;
      ++in_flight_;
      ++requests_sent_;
      return candidate.contact;
    }
  }
  return std::nullopt;
}

bool Lookup::AmongKClosest(const NodeId& id) const {
  const Rank wanted = RankOf(id);
  int taken = 0;
  bool replied = false;
  for (const Rank& rank : ranks_) {
    const Candidate& candidate = candidates_[rank.index];
    if (!HoldsPlace(candidate, replied)) continue;
    if (++taken > options_.bucket_size) break;
    if (rank.SameDistance(wanted)) return true;
    if (candidate.state == State::kReplied) replied = true;
  }
  return false;
}

void Lookup::Settle(Candidate& candidate, State state) {
  if (candidate.state == State::kInFlight) --in_flight_;
  candidate.state = state;
}

void Lookup::OnReply(const NodeId& from, std::span<const Contact> closer) {
  Candidate* candidate = FindCandidate(from);
  if (candidate == nullptr || candidate->state == State::kReplied ||
      candidate->state == State::kFailed || candidate->state == State::kNew) {
    return;  // Not asked, or already settled: nothing to learn.
  }
  Settle(*candidate, State::kReplied);
  const int depth = candidate->depth + 1;
  const Rank best_before = ranks_.front();
  for (const Contact& contact : closer) Add(contact, depth);
  if (ranks_.front().Closer(best_before)) {
    replies_without_progress_ = 0;
    widened_ = false;
  } else {
    ++replies_without_progress_;
    // One of the k closest knows nobody closer: the neighbourhood is found.
    // (`candidate` may have moved: Add grows candidates_.)
    if (AmongKClosest(from)) widened_ = true;
  }
}

void Lookup::OnSlow(const NodeId& from) {
  Candidate* candidate = FindCandidate(from);
  if (candidate != nullptr && candidate->state == State::kInFlight) {
    Settle(*candidate, State::kSlow);
  }
}

void Lookup::OnFailure(const NodeId& from) {
  Candidate* candidate = FindCandidate(from);
  if (candidate != nullptr && candidate->state != State::kReplied) {
    Settle(*candidate, State::kFailed);
  }
}

void Lookup::Exclude(const NodeId& id) {
  Candidate* candidate = FindCandidate(id);
  if (candidate != nullptr && candidate->state == State::kNew) {
    candidate->state = State::kFailed;
  }
}

bool Lookup::Done() const {
  if (capped()) {
    // Nobody new will be asked: done once every request sent has settled.
    for (const Candidate& candidate : candidates_) {
      if (candidate.state == State::kInFlight ||
          candidate.state == State::kSlow) {
        return false;
      }
    }
    return true;
  }
  // The k closest holding a place must all have replied: a slow one has
  // none unless it is ahead of every reply (it may be the closest of all).
  int taken = 0;
  for (const Rank& rank : ranks_) {
    const Candidate& candidate = candidates_[rank.index];
    if (!HoldsPlace(candidate, taken > 0)) continue;
    if (candidate.state != State::kReplied) return false;
    if (++taken == options_.bucket_size) break;
  }
  return true;
}

std::vector<Contact> Lookup::Closest() const {
  std::vector<Contact> closest;
  for (const Rank& rank : ranks_) {
    const Candidate& candidate = candidates_[rank.index];
    if (candidate.state != State::kReplied || candidate.excess) continue;
    closest.push_back(candidate.contact);
    if (static_cast<int>(closest.size()) == options_.bucket_size) break;
  }
  return closest;
}

int Lookup::hops() const {
  for (const Rank& rank : ranks_) {
    const Candidate& candidate = candidates_[rank.index];
    if (candidate.state == State::kReplied && !candidate.excess) {
      return candidate.depth;
    }
  }
  return 0;
}

}  // namespace kad::dht

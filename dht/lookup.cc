#include "dht/lookup.h"

#include <algorithm>

namespace kad::dht {

Lookup::Lookup(const NodeId& target, LookupOptions options,
               std::span<const Contact> seeds, std::optional<NodeId> self)
    : target_(target), options_(options), self_(self) {
  for (const Contact& seed : seeds) Add(seed, /*depth=*/1);
}

bool Lookup::Add(const Contact& contact, int depth) {
  if (self_ && contact.id == *self_) return false;
  auto [it, inserted] = shortlist_.try_emplace(contact.id.DistanceTo(target_),
                                               Candidate{contact});
  if (!inserted) {
    it->second.depth = std::min(it->second.depth, depth);
    return false;
  }
  it->second.depth = depth;
  if (!net::AnyContains(options_.prefix_limit_exempt, contact.endpoint)) {
    LimitPrefixOf(contact.endpoint);
  }
  return true;
}

void Lookup::LimitPrefixOf(const net::Endpoint& endpoint) {
  int seen = 0;
  for (auto& [distance, candidate] : shortlist_) {
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
  auto it = shortlist_.find(id.DistanceTo(target_));
  return it == shortlist_.end() ? nullptr : &it->second;
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
  const int places = options_.bucket_size + (Widened() ? options_.spare : 0);
  int taken = 0;
  bool replied = false;
  for (auto& [distance, candidate] : shortlist_) {
    if (!HoldsPlace(candidate, replied)) continue;
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
  const NodeId wanted = id.DistanceTo(target_);
  int taken = 0;
  bool replied = false;
  for (const auto& [distance, candidate] : shortlist_) {
    if (!HoldsPlace(candidate, replied)) continue;
    if (++taken > options_.bucket_size) break;
    if (distance == wanted) return true;
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
  const NodeId best_before = shortlist_.begin()->first;
  for (const Contact& contact : closer) Add(contact, depth);
  if (shortlist_.begin()->first < best_before) {
    replies_without_progress_ = 0;
    widened_ = false;
  } else {
    ++replies_without_progress_;
    // One of the k closest knows nobody closer: the neighbourhood is found.
    // (`candidate` may have moved: the shortlist is a btree.)
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
    for (const auto& [distance, candidate] : shortlist_) {
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
  for (const auto& [distance, candidate] : shortlist_) {
    if (!HoldsPlace(candidate, taken > 0)) continue;
    if (candidate.state != State::kReplied) return false;
    if (++taken == options_.bucket_size) break;
  }
  return true;
}

std::vector<Contact> Lookup::Closest() const {
  std::vector<Contact> closest;
  for (const auto& [distance, candidate] : shortlist_) {
    if (candidate.state != State::kReplied || candidate.excess) continue;
    closest.push_back(candidate.contact);
    if (static_cast<int>(closest.size()) == options_.bucket_size) break;
  }
  return closest;
}

int Lookup::hops() const {
  for (const auto& [distance, candidate] : shortlist_) {
    if (candidate.state == State::kReplied && !candidate.excess) {
      return candidate.depth;
    }
  }
  return 0;
}

}  // namespace kad::dht

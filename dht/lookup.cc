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

int Lookup::SlotLimit() const {
  // A round of alpha replies without progress: ask all k closest at once.
  return replies_without_progress_ >= options_.parallelism
             ? options_.bucket_size
             : options_.parallelism;
}

std::optional<Contact> Lookup::NextToQuery() {
  if (in_flight_ >= SlotLimit() || capped()) return std::nullopt;
  // Candidates still in the running for the k closest: a slow one is,
  // until it fails (Done() waits for it), so it does not make room for
  // the next candidate, only frees its slot.
  int active = 0;
  for (auto& [distance, candidate] : shortlist_) {
    if (!Counts(candidate)) continue;
    if (++active > options_.bucket_size) break;
    if (candidate.state == State::kNew) {
      candidate.state = State::kInFlight;
      ++in_flight_;
      ++requests_sent_;
      return candidate.contact;
    }
  }
  return std::nullopt;
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
  } else {
    ++replies_without_progress_;
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
  int active = 0;
  for (const auto& [distance, candidate] : shortlist_) {
    if (!Counts(candidate)) continue;
    if (++active > options_.bucket_size) break;
    // A slow request still holds completion: its node may be among the k
    // closest, and a lookup that ends without it reports the wrong set.
    if (candidate.state != State::kReplied) return false;
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

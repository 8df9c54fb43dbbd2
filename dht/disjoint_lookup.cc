#include "dht/disjoint_lookup.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace kad::dht {
namespace {

// Path `path`'s share of the operation's request cap.
LookupOptions PathOptions(LookupOptions options, int paths, int path) {
  const int share = options.max_requests / paths;
  options.max_requests = share + (path < options.max_requests % paths ? 1 : 0);
  return options;
}

}  // namespace

DisjointLookup::DisjointLookup(const NodeId& target, LookupOptions options,
                               int paths, std::span<const Contact> seeds,
                               std::optional<NodeId> self)
    : options_(options) {
  assert(paths >= 1);
  paths_.reserve(static_cast<size_t>(paths));
  for (int path = 0; path < paths; ++path) {
    paths_.emplace_back(target, PathOptions(options, paths, path),
                        std::span<const Contact>(), self);
  }
  AddSeeds(seeds);
}

int DisjointLookup::AddSeeds(std::span<const Contact> seeds) {
  if (paths_.size() == 1) return paths_.front().AddSeeds(seeds);
  int added = 0;
  for (const Contact& seed : seeds) {
    if (claims_.contains(seed.id)) continue;
    added += paths_[next_seed_path_].AddSeeds({&seed, 1});
    next_seed_path_ = (next_seed_path_ + 1) % paths();
  }
  return added;
}

std::optional<Contact> DisjointLookup::NextToQuery() {
  for (int turn = 0; turn < paths(); ++turn) {
    const int path = (next_path_ + turn) % paths();
    std::optional<Contact> next = paths_[path].NextToQuery();
    if (!next) continue;
    next_path_ = (path + 1) % paths();
    if (paths_.size() > 1) {
      claims_.emplace(next->id, path);
      for (int other = 0; other < paths(); ++other) {
        if (other != path) paths_[other].Exclude(next->id);
      }
    }
    return next;
  }
  return std::nullopt;
}

std::optional<int> DisjointLookup::PathOf(const NodeId& id) const {
  if (paths_.size() == 1) return 0;
  auto it = claims_.find(id);
  if (it == claims_.end()) return std::nullopt;
  return it->second;
}

std::vector<Contact> DisjointLookup::Unclaimed(
    int path, std::span<const Contact> contacts) const {
  std::vector<Contact> unclaimed;
  unclaimed.reserve(contacts.size());
  for (const Contact& contact : contacts) {
    auto it = claims_.find(contact.id);
    if (it == claims_.end() || it->second == path) unclaimed.push_back(contact);
  }
  return unclaimed;
}

void DisjointLookup::OnReply(const NodeId& from,
                             std::span<const Contact> closer) {
  std::optional<int> path = PathOf(from);
  if (!path) return;  // Never asked: nothing to learn.
  if (paths_.size() == 1) return paths_.front().OnReply(from, closer);
  paths_[*path].OnReply(from, Unclaimed(*path, closer));
}

void DisjointLookup::OnSlow(const NodeId& from) {
  if (std::optional<int> path = PathOf(from)) paths_[*path].OnSlow(from);
}

void DisjointLookup::OnFailure(const NodeId& from) {
  if (std::optional<int> path = PathOf(from)) paths_[*path].OnFailure(from);
}

bool DisjointLookup::Done() const {
  return std::all_of(paths_.begin(), paths_.end(),
                     [](const Lookup& path) { return path.Done(); });
}

std::vector<Contact> DisjointLookup::Closest() const {
  if (paths_.size() == 1) return paths_.front().Closest();
  std::vector<Contact> closest;
  for (const Lookup& path : paths_) {
    std::vector<Contact> found = path.Closest();
    closest.insert(closest.end(), found.begin(), found.end());
  }
  const CloserTo closer{target()};
  std::sort(closest.begin(), closest.end(),
            [&](const Contact& a, const Contact& b) {
              return closer(a.id, b.id);
            });
  closest = LimitPrefixes(std::move(closest));
  if (static_cast<int>(closest.size()) > options_.bucket_size) {
    closest.resize(static_cast<size_t>(options_.bucket_size));
  }
  return closest;
}

std::vector<Contact> DisjointLookup::LimitPrefixes(
    std::vector<Contact> sorted) const {
  std::vector<Contact> kept;
  kept.reserve(sorted.size());
  for (Contact& contact : sorted) {
    if (!net::AnyContains(options_.prefix_limit_exempt, contact.endpoint)) {
      const auto same = std::count_if(
          kept.begin(), kept.end(), [&](const Contact& other) {
            return net::SamePrefix(other.endpoint, contact.endpoint);
          });
      if (same >= options_.max_per_subnet) continue;
    }
    kept.push_back(std::move(contact));
  }
  return kept;
}

int DisjointLookup::hops() const {
  if (paths_.size() == 1) return paths_.front().hops();
  std::optional<NodeId> best;
  int hops = 0;
  for (const Lookup& path : paths_) {
    std::vector<Contact> found = path.Closest();
    if (found.empty()) continue;
    if (!best || CloserTo{target()}(found.front().id, *best)) {
      best = found.front().id;
      hops = path.hops();
    }
  }
  return hops;
}

int DisjointLookup::requests_sent() const {
  int sent = 0;
  for (const Lookup& path : paths_) sent += path.requests_sent();
  return sent;
}

}  // namespace kad::dht

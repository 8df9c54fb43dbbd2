#include "dht/record_reader.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "dht/record_auth.h"

namespace kad::dht {
namespace {

// Whether two records are the same version (the expiry may differ).
bool SameVersion(const storage::Record& a, const storage::Record& b) {
  return a.seq == b.seq && a.value == b.value;
}

}  // namespace

RecordReader::RecordReader(RecordReaderOptions options, LookupDriver& lookups,
                           Requester& requester, storage::RecordStore& store,
                           net::Clock& clock, NodeStats& stats)
    : options_(options),
      lookups_(lookups),
      requester_(requester),
      store_(store),
      clock_(clock),
      stats_(stats),
      timers_(clock) {}

bool RecordReader::Acceptable(const storage::Record& record,
                              const std::string& key, Accept accept) {
  if (record.key != key) return false;
  if (accept == Accept::kProven && record.kind == storage::RecordKind::kOpen) {
    return false;
  }
  return VerifyRecord(record).ok();
}

void RecordReader::Get(std::string key, Accept accept,
                       Callback<GetResult> done) {
  storage::Record probe{key, "", 0, absl::InfiniteFuture()};
  if (absl::Status valid = storage::ValidateRecordSize(probe); !valid.ok()) {
    return FailSoon(timers_, std::move(done), valid);
  }
  std::optional<storage::Record> local;
  if (!options_.read_only) {
    if (auto held = store_.Get(key, clock_.Now());
        held.ok() && Acceptable(*held, key, accept)) {
      local = *held;
    }
  }
  const size_t quorum =
      static_cast<size_t>(std::max(1, options_.get_quorum - (local ? 1 : 0)));
  const NodeId key_id = NodeId::ForKey(key);
  lookups_.Start(
      key_id, key,
      [this, key, accept, local = std::move(local),
       done = std::move(done)](LookupRun& run) mutable {
        Finish(key, accept, run, std::move(local), std::move(done));
      },
      // Answers only accumulate: verify each once.
      [quorum, key, accept, checked = size_t{0},
       valid = size_t{0}](const LookupRun& run) mutable {
        for (; checked < run.values.size(); ++checked) {
          if (Acceptable(run.values[checked].second, key, accept)) ++valid;
        }
        return valid >= quorum;
      },
      options_.disjoint_paths);
}

void RecordReader::Finish(const std::string& key, Accept accept,
                          LookupRun& run, std::optional<storage::Record> local,
                          Callback<GetResult> done) {
  std::vector<storage::Record> found;
  for (const auto& [contact, record] : run.values) {
    if (Acceptable(record, key, accept)) {
      found.push_back(record);
    } else {
      ++stats_.records_unverified;
    }
  }
  if (local) found.push_back(*local);
  if (found.empty()) {
    if (run.lookup.Closest().empty()) {
      return done(absl::UnavailableError(
          "no node answered the lookup (is the node bootstrapped?)"));
    }
    return done(absl::NotFoundError(absl::StrCat("key '", key, "' not found")));
  }
  storage::Record best = found.front();
  for (const storage::Record& record : found) {
    if (storage::Supersedes(record, best)) best = record;
  }
  int replicas = 0;
  for (const storage::Record& record : found) {
    if (SameVersion(record, best)) ++replicas;
  }
  if (local && storage::Supersedes(best, *local)) {
    // Repair our own copy too.
    (void)StoreVerified(store_, best, std::nullopt, clock_.Now());
  }
  int repaired = ReadRepair(best, run);
  done(GetResult{std::move(best), replicas, repaired, lookups_.StatsOf(run)});
}

int RecordReader::ReadRepair(const storage::Record& best,
                             const LookupRun& run) {
  // Nodes that answered with the best version need nothing. Nodes that
  // answered with an older one, or with none while closer to the key than
  // the farthest node holding a copy, get the best version.
  const NodeId& key_id = run.lookup.target();
  absl::flat_hash_set<NodeId> current;
  absl::flat_hash_set<NodeId> held_older;
  std::optional<NodeId> farthest_holder;
  for (const auto& [contact, record] : run.values) {
    (SameVersion(record, best) ? current : held_older).insert(contact.id);
    if (!farthest_holder || CloserTo{key_id}(*farthest_holder, contact.id)) {
      farthest_holder = contact.id;
    }
  }
  int repaired = 0;
  for (const Contact& contact : run.lookup.Closest()) {
    if (current.contains(contact.id)) continue;
    const bool lacks_but_close =
        farthest_holder && CloserTo{key_id}(contact.id, *farthest_holder);
    auto token = run.tokens.find(contact.id);
    if (token == run.tokens.end()) continue;
    if (!held_older.contains(contact.id) && !lacks_but_close) continue;
    requester_.Send(contact.endpoint, contact.id, Store{best, token->second},
                    {});
    ++repaired;
  }
  return repaired;
}

}  // namespace kad::dht

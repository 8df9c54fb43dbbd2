#include "dht/publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dht/record_auth.h"
#include "dht/release_if_sparse.h"

namespace kad::dht {

Publisher::Publisher(PublisherOptions options, const NodeId& self,
                     LookupDriver& lookups, Requester& requester,
                     storage::RecordStore& store,
                     storage::PublicationStore& publications,
                     net::Clock& clock)
    : options_(options),
      self_(self),
      lookups_(lookups),
      requester_(requester),
      store_(store),
      publications_(publications),
      clock_(clock),
      timers_(clock) {}

void Publisher::Put(storage::Record record,
                    std::optional<uint64_t> expected_seq,
                    Callback<PutResult> done) {
  const absl::Time now = clock_.Now();
  if (absl::Status valid = VerifyRecord(record); !valid.ok()) {
    return FailSoon(timers_, std::move(done), valid);
  }
  if (record.expires <= now) {
    return FailSoon(timers_, std::move(done),
                    absl::InvalidArgumentError("record has already expired"));
  }
  record.expires = std::min(record.expires, now + storage::kMaxTtl);
  if (!options_.read_only) {
    if (absl::Status kept = publications_.Put({record, record.expires - now});
        !kept.ok()) {
      spdlog::warn("'{}' will not be republished: {}", record.key,
                   kept.ToString());
    }
  }
  const NodeId key_id = NodeId::ForKey(record.key);
  lookups_.Start(key_id, std::nullopt,
                 [this, record = std::move(record), expected_seq,
                  done = std::move(done)](LookupRun& run) mutable {
                   StoreOnClosest(std::move(record), expected_seq, run,
                                  std::move(done));
                 },
                 nullptr, options_.disjoint_paths);
}

void Publisher::Republish() {
  const absl::Time now = clock_.Now();
  std::vector<storage::Record> records;
  publications_.ForEach([&](const storage::Publication& publication) {
    records.push_back(publication.record);
    records.back().expires = now + publication.ttl;
  });
  for (storage::Record& record : records) {
    std::string key = record.key;
    Put(std::move(record), std::nullopt,
        [key](absl::StatusOr<PutResult> result) {
      if (!result.ok()) {
        spdlog::info("republish of '{}' failed: {}", key,
                     result.status().ToString());
      }
    });
  }
}

void Publisher::StoreOnClosest(storage::Record record,
                               std::optional<uint64_t> expected_seq,
                               LookupRun& run, Callback<PutResult> done) {
  const NodeId key_id = run.lookup.target();
  std::vector<Contact> closest = run.lookup.Closest();
  const PutId id = next_id_++;
  PendingPut& put = puts_[id];
  put.result.key_id = key_id;
  put.result.seq = record.seq;
  put.result.stats = lookups_.StatsOf(run);
  put.done = std::move(done);
  if (SelfAmongClosest(key_id, closest)) {
    ++put.result.attempted;
    StoreVerdict verdict =
        StoreVerified(store_, record, expected_seq, clock_.Now());
    if (verdict.outcome.ok()) {
      ++put.result.stored;
    } else if (verdict.held_seq) {
      CountRefusal(put.result,
                   Error{ErrorCode::kConflict,
                         std::string(verdict.outcome.status().message()),
                         verdict.held_seq});
    }
  }
  for (const Contact& contact : closest) {
    ++put.result.attempted;
    ++put.outstanding;
    requester_.Send(contact.endpoint, contact.id,
                    Store{record, run.tokens[contact.id], expected_seq},
                    {nullptr, [this, id](absl::StatusOr<Message> answer) {
                       OnStoreAnswer(id, answer);
                     }});
  }
  if (put.outstanding == 0) {
    timers_.Schedule(absl::ZeroDuration(), [this, id] { Finish(id); });
  }
}

void Publisher::OnStoreAnswer(PutId id, const absl::StatusOr<Message>& answer) {
  PendingPut& put = puts_[id];
  if (answer.ok() && std::holds_alternative<Stored>(answer->body)) {
    ++put.result.stored;
  } else if (answer.ok()) {
    if (const auto* error = std::get_if<Error>(&answer->body)) {
      spdlog::debug("store refused: {}", error->reason);
      CountRefusal(put.result, *error);
    }
  }
  if (--put.outstanding == 0) Finish(id);
}

void Publisher::CountRefusal(PutResult& result, const Error& error) {
  if (error.code != ErrorCode::kConflict) {
    ++result.refused[static_cast<size_t>(error.code)];
    return;
  }
  ++result.conflicts;
  if (error.held_seq && (!result.held_seq || *error.held_seq > *result.held_seq)) {
    result.held_seq = error.held_seq;
  }
}

std::string Publisher::RefusedText(const PutResult& result) {
  std::string counts = RefusalCountsText(result.refused);
  return counts.empty() ? "" : absl::StrCat(" (refused: ", counts, ")");
}

void Publisher::Finish(PutId id) {
  auto it = puts_.find(id);
  PendingPut put = std::move(it->second);
  puts_.erase(it);
  ReleaseIfSparse(puts_);
  if (put.result.conflicts > 0) {
    return put.done(absl::AbortedError(absl::StrCat(
        "conflict: ", put.result.conflicts, " of ", put.result.attempted,
        " nodes hold another version (seq ",
        put.result.held_seq ? absl::StrCat(*put.result.held_seq) : "?",
        "); the record was not the latest (stored on ", put.result.stored,
        ")")));
  }
  if (put.result.stored == 0) {
    return put.done(absl::UnavailableError(
        put.result.attempted == 0
            ? "no node found to store on (is the node bootstrapped?)"
            : absl::StrCat("none of the ", put.result.attempted,
                           " closest nodes stored the record",
                           RefusedText(put.result))));
  }
  put.done(std::move(put.result));
}

bool Publisher::SelfAmongClosest(const NodeId& key_id,
                                 const std::vector<Contact>& closest) const {
  if (options_.read_only) return false;
  if (static_cast<int>(closest.size()) < options_.bucket_size) return true;
  return CloserTo{key_id}(self_, closest.back().id);
}

}  // namespace kad::dht

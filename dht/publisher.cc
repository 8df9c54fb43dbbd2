#include "dht/publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
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

void Publisher::Put(storage::Record record, Callback<PutResult> done) {
  const absl::Time now = clock_.Now();
  if (absl::Status valid = storage::ValidateRecordSize(record); !valid.ok()) {
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
                 [this, record = std::move(record),
                  done = std::move(done)](LookupRun& run) mutable {
                   StoreOnClosest(std::move(record), run, std::move(done));
                 });
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
    Put(std::move(record), [key](absl::StatusOr<PutResult> result) {
      if (!result.ok()) {
        spdlog::info("republish of '{}' failed: {}", key,
                     result.status().ToString());
      }
    });
  }
}

void Publisher::StoreOnClosest(storage::Record record, LookupRun& run,
                               Callback<PutResult> done) {
  const NodeId key_id = run.lookup.target();
  std::vector<Contact> closest = run.lookup.Closest();
  const PutId id = next_id_++;
  PendingPut& put = puts_[id];
  put.result = PutResult{key_id, record.seq, 0, 0, lookups_.StatsOf(run)};
  put.done = std::move(done);
  if (SelfAmongClosest(key_id, closest)) {
    ++put.result.attempted;
    if (store_.Put(record, clock_.Now()).ok()) ++put.result.stored;
  }
  for (const Contact& contact : closest) {
    ++put.result.attempted;
    ++put.outstanding;
    requester_.Send(contact.endpoint, contact.id,
                    Store{record, run.tokens[contact.id]},
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
    }
  }
  if (--put.outstanding == 0) Finish(id);
}

void Publisher::Finish(PutId id) {
  auto it = puts_.find(id);
  PendingPut put = std::move(it->second);
  puts_.erase(it);
  ReleaseIfSparse(puts_);
  if (put.result.stored == 0) {
    return put.done(absl::UnavailableError(
        put.result.attempted == 0
            ? "no node found to store on (is the node bootstrapped?)"
            : absl::StrCat("none of the ", put.result.attempted,
                           " closest nodes stored the record")));
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

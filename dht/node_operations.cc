// The lookup driver and the operations built on it: find_node, put, get.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dht/node_impl.h"

namespace kad::dht {
namespace {

// Whether two records are the same version (the expiry may differ).
bool SameVersion(const storage::Record& a, const storage::Record& b) {
  return a.seq == b.seq && a.value == b.value;
}

}  // namespace

// ---- The lookup driver -----------------------------------------------------

OperationId Node::Impl::StartLookup(const NodeId& target,
                                    std::optional<std::string> key,
                                    absl::AnyInvocable<void(LookupRun&)> finish) {
  RoutingTable& table = *node_.routing_table_;
  table.Touch(target, clock_.Now());
  std::vector<Contact> seeds = table.Closest(target, options_.bucket_size);
  const OperationId id = next_operation_++;
  auto run = std::make_unique<LookupRun>(
      Lookup(target, {options_.bucket_size, options_.parallelism}, seeds,
             node_.id_),
      clock_.Now());
  run->value_key = std::move(key);
  run->finish = std::move(finish);
  lookups_.emplace(id, std::move(run));
  ++node_.stats_.lookups_started;
  // Never finish inside the caller's call, even with nobody to ask.
  timers_.Schedule(absl::ZeroDuration(), [this, id] { Pump(id); });
  return id;
}

void Node::Impl::Pump(OperationId id) {
  auto it = lookups_.find(id);
  if (it == lookups_.end()) return;
  LookupRun& run = *it->second;
  if (run.satisfied && run.satisfied(run)) return FinishLookup(id);
  while (auto candidate = run.lookup.NextToQuery()) {
    QueryCandidate(id, run, *candidate);
  }
  if (!run.lookup.Done()) return;
  // Nobody answered: the seeds, our closest contacts, are all gone (a
  // neighbourhood that churned away, a partition). Before giving up, seed
  // the lookup with every contact we have — farther ones still route.
  if (run.lookup.Closest().empty() && !run.widened) {
    run.widened = true;
    const RoutingTable& table = *node_.routing_table_;
    if (run.lookup.AddSeeds(table.Closest(run.lookup.target(), table.size())) >
        0) {
      return Pump(id);
    }
  }
  FinishLookup(id);
}

void Node::Impl::QueryCandidate(OperationId id, LookupRun& run,
                                const Contact& contact) {
  Body request;
  if (run.value_key) {
    request = dht::FindValue{*run.value_key};
  } else {
    request = dht::FindNode{run.lookup.target()};
  }
  RpcHandlers handlers;
  handlers.on_slow = [this, id, node = contact.id] {
    auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    it->second->lookup.OnSlow(node);
    Pump(id);
  };
  handlers.on_done = [this, id, contact](absl::StatusOr<Message> answer) {
    OnLookupAnswer(id, contact, std::move(answer));
  };
  handlers.on_traffic = [this, id](size_t bytes) {
    if (auto it = lookups_.find(id); it != lookups_.end()) {
      it->second->bytes += bytes;
    }
  };
  Request(contact.endpoint, contact.id, std::move(request),
          std::move(handlers));
}

void Node::Impl::OnLookupAnswer(OperationId id, const Contact& contact,
                                absl::StatusOr<Message> answer) {
  auto it = lookups_.find(id);
  if (it == lookups_.end()) return;  // Finished already: a late answer.
  LookupRun& run = *it->second;
  if (!answer.ok() || std::holds_alternative<Error>(answer->body)) {
    ++run.failures;
    run.lookup.OnFailure(contact.id);
    return Pump(id);
  }
  if (auto* nodes = std::get_if<Nodes>(&answer->body)) {
    run.tokens[contact.id] = std::move(nodes->token);
    run.lookup.OnReply(contact.id, nodes->closest);
  } else if (auto* value = std::get_if<Value>(&answer->body)) {
    run.tokens[contact.id] = std::move(value->token);
    const bool valid = value->record && value->record->key == *run.value_key;
    if (valid) run.values.emplace_back(contact, *std::move(value->record));
    // Holders also return contacts (as many as fit beside the record), so
    // the lookup can go on to collect a quorum of replicas.
    run.lookup.OnReply(contact.id, value->closest);
  }
  Pump(id);
}

void Node::Impl::FinishLookup(OperationId id) {
  auto it = lookups_.find(id);
  std::unique_ptr<LookupRun> run = std::move(it->second);
  lookups_.erase(it);
  ++node_.stats_.lookups_finished;
  lookup_latency_.Add(clock_.Now() - run->started);
  run->finish(*run);
}

LookupStats Node::Impl::StatsOf(const LookupRun& run) const {
  return LookupStats{run.lookup.hops(), run.lookup.requests_sent(),
                     run.failures, clock_.Now() - run.started, run.bytes};
}

std::vector<ContactInfo> Node::Impl::WithRtt(
    const std::vector<Contact>& contacts) const {
  std::vector<ContactInfo> infos;
  infos.reserve(contacts.size());
  for (const Contact& c : contacts) {
    infos.push_back({c, rpc_.SmoothedRtt(c.endpoint)});
  }
  return infos;
}

void Node::Impl::FindNode(const NodeId& target, Callback<LookupResult> done) {
  StartLookup(target, std::nullopt,
              [this, done = std::move(done)](LookupRun& run) mutable {
                std::vector<Contact> closest = run.lookup.Closest();
                if (closest.empty()) {
                  return done(absl::UnavailableError(
                      "no node answered the lookup (is the node bootstrapped?)"));
                }
                done(LookupResult{WithRtt(closest), StatsOf(run)});
              });
}

bool Node::Impl::SelfAmongClosest(const NodeId& key_id,
                                  const std::vector<Contact>& closest) const {
  if (options_.read_only) return false;
  if (static_cast<int>(closest.size()) < options_.bucket_size) return true;
  return CloserTo{key_id}(node_.id_, closest.back().id);
}

// ---- put -------------------------------------------------------------------

void Node::Impl::Put(storage::Record record, Callback<PutResult> done) {
  const absl::Time now = clock_.Now();
  if (absl::Status valid = storage::ValidateRecordSize(record); !valid.ok()) {
    return FailSoon(std::move(done), valid);
  }
  if (record.expires <= now) {
    return FailSoon(std::move(done),
                    absl::InvalidArgumentError("record has already expired"));
  }
  record.expires = std::min(record.expires, now + storage::kMaxTtl);
  if (!options_.read_only) {
    if (absl::Status kept =
            publications_.Put({record, record.expires - now});
        !kept.ok()) {
      spdlog::warn("'{}' will not be republished: {}", record.key,
                   kept.ToString());
    }
  }
  const NodeId key_id = NodeId::ForKey(record.key);
  StartLookup(key_id, std::nullopt,
              [this, record = std::move(record),
               done = std::move(done)](LookupRun& run) mutable {
                StoreOnClosest(std::move(record), run, std::move(done));
              });
}

void Node::Impl::StoreOnClosest(storage::Record record, LookupRun& run,
                                Callback<PutResult> done) {
  const NodeId key_id = run.lookup.target();
  std::vector<Contact> closest = run.lookup.Closest();
  const OperationId put_id = next_operation_++;
  PendingPut& put = puts_[put_id];
  put.result = PutResult{key_id, record.seq, 0, 0, StatsOf(run)};
  put.done = std::move(done);
  if (SelfAmongClosest(key_id, closest)) {
    ++put.result.attempted;
    if (store_.Put(record, clock_.Now()).ok()) ++put.result.stored;
  }
  for (const Contact& contact : closest) {
    ++put.result.attempted;
    ++put.outstanding;
    Request(contact.endpoint, contact.id,
            Store{record, run.tokens[contact.id]},
            {nullptr, [this, put_id](absl::StatusOr<Message> answer) {
               OnStoreAnswer(put_id, answer);
             }});
  }
  if (put.outstanding == 0) {
    timers_.Schedule(absl::ZeroDuration(), [this, put_id] { FinishPut(put_id); });
  }
}

void Node::Impl::OnStoreAnswer(OperationId put_id,
                               const absl::StatusOr<Message>& answer) {
  PendingPut& put = puts_[put_id];
  if (answer.ok() && std::holds_alternative<Stored>(answer->body)) {
    ++put.result.stored;
  } else if (answer.ok()) {
    if (const auto* error = std::get_if<Error>(&answer->body)) {
      spdlog::debug("store refused: {}", error->reason);
    }
  }
  if (--put.outstanding == 0) FinishPut(put_id);
}

void Node::Impl::FinishPut(OperationId put_id) {
  auto it = puts_.find(put_id);
  PendingPut put = std::move(it->second);
  puts_.erase(it);
  if (put.result.stored == 0) {
    return put.done(absl::UnavailableError(
        put.result.attempted == 0
            ? "no node found to store on (is the node bootstrapped?)"
            : absl::StrCat("none of the ", put.result.attempted,
                           " closest nodes stored the record")));
  }
  put.done(std::move(put.result));
}

// ---- get -------------------------------------------------------------------

void Node::Impl::Get(std::string key, Callback<GetResult> done) {
  storage::Record probe{key, "", 0, absl::InfiniteFuture()};
  if (absl::Status valid = storage::ValidateRecordSize(probe); !valid.ok()) {
    return FailSoon(std::move(done), valid);
  }
  std::optional<storage::Record> local;
  if (!options_.read_only) {
    if (auto held = store_.Get(key, clock_.Now()); held.ok()) local = *held;
  }
  const size_t quorum =
      static_cast<size_t>(std::max(1, options_.get_quorum - (local ? 1 : 0)));
  const NodeId key_id = NodeId::ForKey(key);
  OperationId id = StartLookup(
      key_id, key,
      [this, key, local = std::move(local),
       done = std::move(done)](LookupRun& run) mutable {
        FinishGet(std::move(key), run, std::move(local), std::move(done));
      });
  lookups_[id]->satisfied = [quorum](const LookupRun& run) {
    return run.values.size() >= quorum;
  };
}

void Node::Impl::FinishGet(std::string key, LookupRun& run,
                           std::optional<storage::Record> local,
                           Callback<GetResult> done) {
  std::vector<storage::Record> found;
  for (const auto& [contact, record] : run.values) found.push_back(record);
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
    (void)store_.Put(best, clock_.Now());  // Repair our own copy too.
  }
  int repaired = ReadRepair(best, run);
  done(GetResult{std::move(best), replicas, repaired, StatsOf(run)});
}

int Node::Impl::ReadRepair(const storage::Record& best, const LookupRun& run) {
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
    Request(contact.endpoint, contact.id, Store{best, token->second}, {});
    ++repaired;
  }
  return repaired;
}

}  // namespace kad::dht

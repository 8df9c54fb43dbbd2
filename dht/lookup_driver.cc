#include "dht/lookup_driver.h"

#include <algorithm>
#include <utility>

#include "dht/release_if_sparse.h"

namespace kad::dht {

LookupDriver::LookupDriver(LookupOptions options, const NodeId& self,
                           RoutingTable& routing_table, Requester& requester,
                           net::Clock& clock, NodeStats& stats,
                           LatencyWindow& latency)
    : options_(options),
      self_(self),
      routing_table_(routing_table),
      requester_(requester),
      clock_(clock),
      stats_(stats),
      latency_(latency),
      timers_(clock) {}

LookupId LookupDriver::Start(const NodeId& target,
                             std::optional<std::string> value_key,
                             Finish finish, Satisfied satisfied, int paths,
                             int width, Urgency urgency) {
  LookupOptions options = options_;
  if (width > 0) options.bucket_size = std::min(width, options.bucket_size);
  routing_table_.Touch(target, clock_.Now());
  std::vector<Contact> seeds =
      routing_table_.Closest(target, options.bucket_size);
  const LookupId id = next_id_++;
  auto entry = std::make_unique<Entry>(
      Entry{LookupRun(DisjointLookup(target, options, paths, seeds, self_),
                      clock_.Now()),
            std::move(satisfied), std::move(finish)});
  entry->run.value_key = std::move(value_key);
  entry->run.upkeep = urgency == Urgency::kUpkeep;
  runs_.emplace(id, std::move(entry));
  ++stats_.lookups_started;
  // Never finish inside the caller's call, even with nobody to ask.
  timers_.Schedule(absl::ZeroDuration(), [this, id] { Pump(id); });
  return id;
}

void LookupDriver::Pump(LookupId id) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return;
  Entry& entry = *it->second;
  LookupRun& run = entry.run;
  if (entry.satisfied && entry.satisfied(run)) return End(id);
  if (clock_.Now() - run.started >= options_.deadline) {
    run.timed_out = true;
    return End(id);
  }
  while (auto candidate = run.lookup.NextToQuery()) {
    Query(id, run, *candidate);
  }
  if (!run.lookup.Done()) return;
  // Nobody answered: the seeds, our closest contacts, are all gone (a
  // neighbourhood that churned away, a partition). Before giving up, seed
  // the lookup with every contact we have — farther ones still route.
  if (run.lookup.Closest().empty() && !run.widened) {
    run.widened = true;
    if (run.lookup.AddSeeds(routing_table_.Closest(
            run.lookup.target(), routing_table_.size())) > 0) {
      return Pump(id);
    }
  }
  End(id);
}

void LookupDriver::Query(LookupId id, const LookupRun& run,
                         const Contact& contact) {
  Body request;
  if (run.value_key) {
    request = dht::FindValue{*run.value_key};
  } else {
    request = dht::FindNode{run.lookup.target()};
  }
  RpcHandlers handlers;
  if (!run.upkeep) {
    handlers.on_slow = [this, id, node = contact.id] {
      auto it = runs_.find(id);
      if (it == runs_.end()) return;
      it->second->run.lookup.OnSlow(node);
      Pump(id);
    };
  }
  handlers.on_done = [this, id, contact](absl::StatusOr<Message> answer) {
    OnAnswer(id, contact, std::move(answer));
  };
  handlers.on_traffic = [this, id](size_t bytes) {
    if (auto it = runs_.find(id); it != runs_.end()) {
      it->second->run.bytes += bytes;
    }
  };
  requester_.Send(contact.endpoint, contact.id, std::move(request),
                  std::move(handlers));
}

void LookupDriver::OnAnswer(LookupId id, const Contact& contact,
                            absl::StatusOr<Message> answer) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return;  // Finished already: a late answer.
  LookupRun& run = it->second->run;
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

void LookupDriver::End(LookupId id) {
  auto it = runs_.find(id);
  std::unique_ptr<Entry> entry = std::move(it->second);
  runs_.erase(it);
  ReleaseIfSparse(runs_);
  ++stats_.lookups_finished;
  latency_.Add(clock_.Now() - entry->run.started);
  entry->finish(entry->run);
}

LookupStats LookupDriver::StatsOf(const LookupRun& run) const {
  return LookupStats{run.lookup.hops(), run.lookup.requests_sent(),
                     run.failures, clock_.Now() - run.started, run.bytes};
}

}  // namespace kad::dht

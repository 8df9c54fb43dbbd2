#include "dht/request_handler.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "dht/record_auth.h"
#include "dht/wire_codec.h"

namespace kad::dht {

RequestHandler::RequestHandler(int bucket_size,
                               const RoutingTable& routing_table,
                               storage::RecordStore& store, TokenIssuer& tokens,
                               NodeStats& stats,
                               const StatsService& stats_service,
                               StoreAdmission* admission)
    : contacts_per_reply_(std::min<size_t>(bucket_size, kMaxContactsPerMessage)),
      routing_table_(routing_table),
      store_(store),
      tokens_(tokens),
      stats_(stats),
      stats_service_(stats_service),
      admission_(admission) {}

std::vector<Contact> RequestHandler::ClosestFor(
    const NodeId& target, const std::optional<NodeId>& requester) const {
  return routing_table_.Closest(target, contacts_per_reply_, requester);
}

Body RequestHandler::Handle(const Message& request, const net::Endpoint& from,
                            absl::Time now) {
  if (std::holds_alternative<Ping>(request.body)) return Pong{from};
  if (const auto* find = std::get_if<FindNode>(&request.body)) {
    return Nodes{ClosestFor(find->target, request.sender),
                 tokens_.Issue(from, now), from};
  }
  if (const auto* find = std::get_if<FindValue>(&request.body)) {
    Value value;
    value.token = tokens_.Issue(from, now);
    value.observed = from;
    value.closest = ClosestFor(NodeId::ForKey(find->key), request.sender);
    if (auto record = store_.Get(find->key, now); record.ok()) {
      value.record = *std::move(record);
      FitInDatagram(value, now);
    }
    return value;
  }
  if (const auto* store = std::get_if<Store>(&request.body)) {
    return HandleStore(*store, from, now);
  }
  if (std::holds_alternative<Stats>(request.body)) {
    return stats_service_.Answer(from, now);
  }
  if (const auto* offer = std::get_if<Offer>(&request.body)) {
    return HandleOffer(*offer, from, now);
  }
  return Error{ErrorCode::kMalformed, "not a request"};
}

void RequestHandler::FitInDatagram(Value& value, absl::Time now) const {
  // A record leaves less room for contacts: keep as many as surely fit.
  // The probe uses the largest header a response can have.
  std::vector<Contact> closest = std::move(value.closest);
  value.closest.clear();
  auto bare = EncodeMessage(Message{~TransactionId{0}, NodeId(), value}, now);
  if (value.observed && (!bare.ok() || bare->size() >= kMaxDatagramBytes)) {
    // The record leaves no room for the observed address: it is optional.
    value.observed.reset();
    bare = EncodeMessage(Message{~TransactionId{0}, NodeId(), value}, now);
  }
  if (!bare.ok() || bare->size() >= kMaxDatagramBytes) return;
  size_t room = (kMaxDatagramBytes - bare->size()) / kMaxContactBytes;
  if (closest.size() > room) closest.resize(room);
  value.closest = std::move(closest);
}

Body RequestHandler::HandleStore(const Store& store, const net::Endpoint& from,
                                 absl::Time now) {
  if (!tokens_.Verify(store.token, from, now)) {
    return Refuse(Error{ErrorCode::kBadToken,
                        "missing, expired or foreign write token"});
  }
  if (std::optional<Error> refusal =
          AdmissionRefusal(store.record, from, now)) {
    return Refuse(*std::move(refusal));
  }
  StoreVerdict verdict =
      StoreVerified(store_, store.record, store.expected_seq, now);
  if (!verdict.outcome.ok()) return Refuse(RefusalFor(verdict));
  if (admission_ != nullptr) admission_->OnStored(store.record, from, now);
  ++stats_.stores_accepted;
  return Stored{};
}

std::optional<Error> RequestHandler::AdmissionRefusal(
    const storage::Record& record, const net::Endpoint& from,
    absl::Time now) {
  if (admission_ == nullptr) return std::nullopt;
  const bool held = store_.Get(record.key, now).ok();
  switch (admission_->Check(record, held, from, now)) {
    case StoreRefusal::kNone:
      return std::nullopt;
    case StoreRefusal::kNotClosest:
      return Error{ErrorCode::kNotClosest,
                   absl::StrCat("this node knows ", admission_->closer_limit(),
                                " nodes closer to the key than itself")};
    case StoreRefusal::kSourceQuota:
      return Error{ErrorCode::kSourceQuota,
                   "the sender's address prefix holds its share of this "
                   "node's store"};
  }
  return std::nullopt;
}

Error RequestHandler::Refuse(Error refusal) {
  ++stats_.stores_rejected;
  ++stats_.stores_refused[static_cast<size_t>(refusal.code)];
  return refusal;
}

Error RequestHandler::CommitFailed(const absl::Status& commit) {
  --stats_.stores_accepted;
  return Refuse(RefusalFor(StoreVerdict{commit, std::nullopt}));
}

Error RequestHandler::RefusalFor(const StoreVerdict& verdict) {
  const absl::Status& status = verdict.outcome.status();
  std::string reason(status.message());
  if (reason.size() > kMaxErrorReasonBytes) reason.resize(kMaxErrorReasonBytes);
  if (absl::IsAborted(status)) {
    return Error{ErrorCode::kConflict, reason, verdict.held_seq};
  }
  if (absl::IsResourceExhausted(status)) {
    return Error{ErrorCode::kStoreFull, reason};
  }
  if (absl::IsInvalidArgument(status) || absl::IsPermissionDenied(status)) {
    return Error{ErrorCode::kRecordRejected, reason};
  }
  return Error{ErrorCode::kInternal, reason};
}

Body RequestHandler::HandleOffer(const Offer& offer, const net::Endpoint& from,
                                 absl::Time now) {
  OfferReply reply;
  for (size_t i = 0; i < offer.summaries.size(); ++i) {
    const RecordSummary& summary = offer.summaries[i];
    auto held = store_.Get(summary.key, now);
    if (held.ok() && !(storage::RecordVersion{summary.seq, summary.digest} >
                       storage::VersionOf(*held))) {
      continue;  // We hold this version or a newer one.
    }
    if (!held.ok() && admission_ != nullptr &&
        admission_->CheckOffered(summary.key, from, now) !=
            StoreRefusal::kNone) {
      continue;  // Its store would be refused.
    }
    reply.wanted.push_back(static_cast<uint32_t>(i));
  }
  if (!reply.wanted.empty()) reply.token = tokens_.Issue(from, now);
  return reply;
}

}  // namespace kad::dht

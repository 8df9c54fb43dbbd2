#include "dht/request_gate.h"

namespace kad::dht {
namespace {

template <typename T, typename Options>
std::unique_ptr<T> MakeIf(const std::optional<Options>& options,
                          uint64_t table_seed) {
  if (!options) return nullptr;
  Options seeded = *options;
  seeded.table_seed = table_seed;
  return std::make_unique<T>(seeded);
}

}  // namespace

RequestGate::RequestGate(const std::optional<AdmissionOptions>& admission,
                         const std::optional<ReplyBudgetOptions>& reply_budget,
                         uint64_t table_seed)
    : needs_proof_(reply_budget &&
                   reply_budget->unproven_max_amplification.has_value()),
      admission_(MakeIf<AdmissionControl>(admission, table_seed)),
      replies_(MakeIf<ReplyBudget>(reply_budget, ~table_seed)) {}

bool RequestGate::Admit(const net::Endpoint& source, absl::Time now) {
  return admission_ == nullptr ||
         admission_->Decide(source, now) == Admission::kAdmit;
}

bool RequestGate::MayReply(const net::Endpoint& destination,
                           size_t request_bytes, size_t reply_bytes,
                           bool proven, absl::Time now) {
  if (replies_ == nullptr) return true;
  return replies_->Decide(destination, request_bytes, reply_bytes,
                          proven ? AddressProof::kProven
                                 : AddressProof::kUnproven,
                          now) == ReplyDecision::kSend;
}

RequestGateStats RequestGate::stats() const {
  RequestGateStats stats;
  if (admission_) stats.admission = admission_->stats();
  if (replies_) stats.replies = replies_->stats();
  return stats;
}

}  // namespace kad::dht

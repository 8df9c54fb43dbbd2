#include "dht/reply_budget.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kad::dht {
namespace {

constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

size_t ToSize(int64_t tokens) {
  if (tokens <= 0) return 0;
  return static_cast<uint64_t>(tokens) >= kUnlimited
             ? kUnlimited
             : static_cast<size_t>(tokens);
}

}  // namespace

std::string_view ReplyDecisionName(ReplyDecision decision) {
  switch (decision) {
    case ReplyDecision::kSend:
      return "send";
    case ReplyDecision::kWithholdAmplification:
      return "withhold_amplification";
    case ReplyDecision::kWithholdAddressBudget:
      return "withhold_address_budget";
    case ReplyDecision::kWithholdPrefixBudget:
      return "withhold_prefix_budget";
  }
  return "unknown";
}

ReplyBudget::ReplyBudget(const ReplyBudgetOptions& options)
    : address_bucket_(BucketFor(options.per_address)),
      prefix_bucket_(BucketFor(options.per_prefix)),
      max_amplification_(options.unproven_max_amplification),
      overhead_bytes_(static_cast<int64_t>(options.datagram_overhead_bytes)),
      exempt_loopback_(options.exempt_loopback),
      table_(options.max_entries, options.table_seed) {}

size_t ReplyBudget::AmplificationLimit(size_t request_bytes,
                                       AddressProof proof) const {
  if (proof == AddressProof::kProven || !max_amplification_) return kUnlimited;
  double on_wire = *max_amplification_ *
                   static_cast<double>(request_bytes + overhead_bytes_);
  return ToSize(static_cast<int64_t>(std::floor(on_wire)) - overhead_bytes_);
}

ReplyDecision ReplyBudget::Decide(const net::Endpoint& destination,
                                  size_t request_bytes, size_t reply_bytes,
                                  AddressProof proof, absl::Time now) {
  SourceKeys keys = KeysOf(destination);
  if (!(keys.loopback && exempt_loopback_)) {
    ReplyDecision decision =
        reply_bytes > AmplificationLimit(request_bytes, proof)
            ? ReplyDecision::kWithholdAmplification
            : TakeBudget(keys, reply_bytes, TokenBucket::Nanos(now));
    if (decision != ReplyDecision::kSend) {
      return Withhold(decision, reply_bytes);
    }
  }
  ++stats_.replies_sent;
  stats_.bytes_sent += reply_bytes;
  return ReplyDecision::kSend;
}

ReplyDecision ReplyBudget::TakeBudget(const SourceKeys& keys,
                                      size_t reply_bytes, int64_t now_ns) {
  // Clamped so that cost * ns_per_token cannot overflow; no datagram comes
  // near it.
  int64_t cost = static_cast<int64_t>(std::min<size_t>(reply_bytes, 1u << 30));
  Table::Index address = table_.Find(keys.address);
  int64_t address_next = address_bucket_.Next(
      address == Table::kNone ? TokenBucket::kFull
                              : table_.value(address).ready_ns,
      now_ns, cost);
  if (!address_bucket_.Allowed(address_next, now_ns)) {
    return ReplyDecision::kWithholdAddressBudget;
  }
  Table::Index prefix = table_.Find(keys.prefix);
  int64_t prefix_next = prefix_bucket_.Next(prefix == Table::kNone
                                                ? TokenBucket::kFull
                                                : table_.value(prefix).ready_ns,
                                            now_ns, cost);
  if (!prefix_bucket_.Allowed(prefix_next, now_ns)) {
    return ReplyDecision::kWithholdPrefixBudget;
  }
  // Stores to entries found come first: adding an entry may move the
  // others. A bucket still full afterwards needs no entry.
  if (address != Table::kNone) table_.value(address).ready_ns = address_next;
  if (prefix != Table::kNone) table_.value(prefix).ready_ns = prefix_next;
  if (prefix == Table::kNone && prefix_next > now_ns) {
    table_.value(table_.Insert(keys.prefix, now_ns, &keys.address)).ready_ns =
        prefix_next;
  }
  if (address == Table::kNone && address_next > now_ns) {
    table_.value(table_.Insert(keys.address, now_ns, &keys.prefix)).ready_ns =
        address_next;
  }
  return ReplyDecision::kSend;
}

size_t ReplyBudget::Allowance(const net::Endpoint& destination,
                              size_t request_bytes, AddressProof proof,
                              absl::Time now) const {
  SourceKeys keys = KeysOf(destination);
  if (keys.loopback && exempt_loopback_) return kUnlimited;
  int64_t now_ns = TokenBucket::Nanos(now);
  auto available = [&](const TokenBucket& bucket, const SourceKey& key) {
    Table::Index i = table_.Find(key);
    return ToSize(bucket.Available(
        i == Table::kNone ? TokenBucket::kFull : table_.value(i).ready_ns,
        now_ns));
  };
  return std::min({AmplificationLimit(request_bytes, proof),
                   available(address_bucket_, keys.address),
                   available(prefix_bucket_, keys.prefix)});
}

ReplyDecision ReplyBudget::Withhold(ReplyDecision decision,
                                    size_t reply_bytes) {
  switch (decision) {
    case ReplyDecision::kWithholdAmplification:
      ++stats_.withheld_amplification;
      break;
    case ReplyDecision::kWithholdAddressBudget:
      ++stats_.withheld_address_budget;
      break;
    case ReplyDecision::kWithholdPrefixBudget:
      ++stats_.withheld_prefix_budget;
      break;
    case ReplyDecision::kSend:
      break;
  }
  stats_.bytes_withheld += reply_bytes;
  return decision;
}

ReplyBudgetStats ReplyBudget::stats() const {
  ReplyBudgetStats stats = stats_;
  stats.live_evictions = table_.live_evictions();
  return stats;
}

}  // namespace kad::dht

#include "dht/node_options.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kad::dht {
namespace {

absl::Status OutOfRange(const char* field, int low, int high) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be in ", low, "-", high));
}

bool IsPositive(absl::Duration duration) {
  return duration > absl::ZeroDuration();
}

}  // namespace

ReplyBudgetOptions DefaultReplyBudget() {
  ReplyBudgetOptions options;
  options.unproven_max_amplification = std::nullopt;
  return options;
}

absl::Status ValidateNodeOptions(const NodeOptions& options) {
  if (options.bucket_size < 1 || options.bucket_size > kMaxBucketSize) {
    return OutOfRange("k (bucket_size)", 1, kMaxBucketSize);
  }
  if (options.parallelism < 1 || options.parallelism > kMaxParallelism) {
    return OutOfRange("alpha (parallelism)", 1, kMaxParallelism);
  }
  if (options.get_quorum < 1) {
    return absl::InvalidArgumentError("get_quorum must be at least 1");
  }
  if (options.max_per_subnet_in_bucket < 1 ||
      options.max_per_subnet_in_table < 1 ||
      options.lookup_max_per_subnet < 1) {
    return absl::InvalidArgumentError(
        "per-subnet limits (bucket, table, lookup) must be at least 1");
  }
  if (options.lookup_max_requests < options.bucket_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lookup_max_requests must be at least k (", options.bucket_size, ")"));
  }
  if (const IdBindingOptions& b = options.id_binding;
      b.ipv4_prefix_length < 8 || b.ipv4_prefix_length > 32 ||
      b.ipv6_prefix_length < 16 || b.ipv6_prefix_length > 128) {
    return absl::InvalidArgumentError(
        "id_binding prefix lengths must be 8-32 (IPv4) and 16-128 (IPv6)");
  }
  if (const int most = std::min(kMaxDisjointPaths, options.bucket_size);
      options.disjoint_paths < 1 || options.disjoint_paths > most) {
    return OutOfRange("disjoint_paths", 1, most);
  }
  if (!IsPositive(options.lookup_deadline)) {
    return absl::InvalidArgumentError("lookup_deadline must be positive");
  }
  if (!IsPositive(options.min_rpc_timeout) ||
      options.min_rpc_timeout > options.initial_rpc_timeout ||
      options.initial_rpc_timeout > options.max_rpc_timeout) {
    return absl::InvalidArgumentError(
        "RPC timeouts must be positive, with min <= initial <= max");
  }
  if (options.rpc_give_up_after_timeouts < 1) {
    return absl::InvalidArgumentError(
        "rpc_give_up_after_timeouts must be at least 1");
  }
  if (!IsPositive(options.bucket_refresh_interval) ||
      !IsPositive(options.token_rotation) ||
      !IsPositive(options.republish_interval) ||
      !IsPositive(options.expiry_interval) ||
      options.handoff_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "refresh, token, republish and expiry intervals must be positive "
        "(InfiniteDuration turns the optional ones off)");
  }
  if (options.store_admission &&
      (options.store_admission->closeness_slack < 0 ||
       options.store_admission->prefix_share_divisor < 1)) {
    return absl::InvalidArgumentError(
        "store_admission: closeness_slack must be at least 0 and "
        "prefix_share_divisor at least 1");
  }
  if (options.store_commit_batch < 1 ||
      options.store_commit_delay < absl::ZeroDuration() ||
      options.store_commit_delay == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "store_commit_batch must be at least 1 and store_commit_delay finite "
        "and not negative");
  }
  return absl::OkStatus();
}

}  // namespace kad::dht

#include "dht/stats_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kad::dht {
namespace {

uint64_t Micros(absl::Duration duration) {
  return static_cast<uint64_t>(
      std::max<int64_t>(absl::ToInt64Microseconds(duration), 0));
}

LatencyPercentiles ToMicros(const LatencySummary& summary) {
  return LatencyPercentiles{Micros(summary.p50), Micros(summary.p90),
                            Micros(summary.p99), Micros(summary.max)};
}

}  // namespace

StatsService::StatsService(std::vector<net::Subnet> allow, absl::Time started,
                           const RoutingTable& routing_table,
                           const storage::RecordStore& store,
                           const NodeStats& stats,
                           const LatencyWindow& lookup_latency,
                           const RequestGate& gate)
    : allow_(std::move(allow)),
      started_(started),
      routing_table_(routing_table),
      store_(store),
      stats_(stats),
      lookup_latency_(lookup_latency),
      gate_(gate) {}

bool StatsService::Allows(const net::Endpoint& requester) const {
  return requester.is_loopback() ||
         std::any_of(allow_.begin(), allow_.end(),
                     [&](const net::Subnet& subnet) {
                       return subnet.Contains(requester);
                     });
}

Body StatsService::Answer(const net::Endpoint& requester,
                          absl::Time now) const {
  if (!Allows(requester)) return Error{ErrorCode::kForbidden, kForbiddenReason};
  return Snapshot(now);
}

StatsReply StatsService::Snapshot(absl::Time now) const {
  StatsReply reply;
  reply.uptime_seconds = Micros(now - started_) / 1'000'000;
  for (const BucketInfo& bucket : routing_table_.Buckets()) {
    reply.buckets.push_back(
        BucketCount{static_cast<uint32_t>(bucket.prefix_length),
                    static_cast<uint32_t>(std::min<size_t>(
                        bucket.size, kMaxStatsBucketContacts))});
  }
  const storage::StoreStats held = store_.stats();
  reply.records = held.records;
  reply.record_bytes = held.bytes;
  reply.datagrams_in = stats_.datagrams_in;
  reply.datagrams_out = stats_.datagrams_out;
  reply.bytes_in = stats_.bytes_in;
  reply.bytes_out = stats_.bytes_out;
  reply.malformed_in = stats_.malformed_in;
  reply.unmatched_responses = stats_.unmatched_responses;
  reply.messages_in.assign(stats_.messages_in.begin(),
                           stats_.messages_in.end());
  reply.messages_out.assign(stats_.messages_out.begin(),
                            stats_.messages_out.end());
  reply.rpc_timeouts = stats_.rpc_timeouts;
  reply.rpc_failures = stats_.rpc_failures;
  reply.lookups_started = stats_.lookups_started;
  reply.lookups_finished = stats_.lookups_finished;
  reply.lookup_latency = ToMicros(lookup_latency_.Summary());
  reply.stores_accepted = stats_.stores_accepted;
  reply.stores_rejected = stats_.stores_rejected;
  reply.requests_dropped = stats_.requests_refused;
  reply.sources_banned = gate_.stats().admission.bans;
  reply.reply_bytes_withheld = stats_.reply_bytes_withheld;
  reply.stores_refused.assign(stats_.stores_refused.begin(),
                              stats_.stores_refused.end());
  return reply;
}

absl::StatusOr<StatsReport> ToStatsReport(const net::Endpoint& node,
                                          absl::StatusOr<Message> answer) {
  if (!answer.ok()) return answer.status();
  if (const auto* error = std::get_if<Error>(&answer->body)) {
    std::string message =
        absl::StrCat(node.ToString(), " refused stats: ", error->reason);
    if (error->code == ErrorCode::kForbidden) {
      return absl::PermissionDeniedError(message);
    }
    return absl::UnavailableError(message);
  }
  auto* reply = std::get_if<StatsReply>(&answer->body);
  if (reply == nullptr) {
    return absl::UnavailableError(
        absl::StrCat(node.ToString(), " answered stats with ",
                     MessageTypeName(answer->type())));
  }
  if (!answer->sender) {
    return absl::UnavailableError(
        absl::StrCat(node.ToString(), " answered stats without a node id"));
  }
  return StatsReport{*answer->sender, node, std::move(*reply)};
}

}  // namespace kad::dht

#include "runtime/prometheus_metrics.h"

#include <cstdint>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace kad::runtime {
namespace {

// A NodeStats counter exported as `kad_<name>_total`.
struct Counter {
  const char* name;
  const char* help;
  uint64_t dht::NodeStats::*field;
};

constexpr Counter kCounters[] = {
    {"datagrams_in", "Datagrams received.", &dht::NodeStats::datagrams_in},
    {"datagrams_out", "Datagrams sent.", &dht::NodeStats::datagrams_out},
    {"bytes_in", "Bytes of datagrams received (UDP payload).",
     &dht::NodeStats::bytes_in},
    {"bytes_out", "Bytes of datagrams sent (UDP payload).",
     &dht::NodeStats::bytes_out},
    {"malformed_in", "Datagrams dropped because they did not decode.",
     &dht::NodeStats::malformed_in},
    {"unmatched_responses",
     "Responses dropped: no pending request, or the wrong sender.",
     &dht::NodeStats::unmatched_responses},
    {"send_errors", "Datagrams the socket refused to send.",
     &dht::NodeStats::send_errors},
    {"rpc_timeouts", "Requests that passed their timeout (still waiting).",
     &dht::NodeStats::rpc_timeouts},
    {"rpc_retransmits", "Requests sent again after a timeout.",
     &dht::NodeStats::rpc_retransmits},
    {"rpc_failures", "Requests given up on.", &dht::NodeStats::rpc_failures},
    {"lookups_started", "Iterative lookups started.",
     &dht::NodeStats::lookups_started},
    {"lookups_finished", "Iterative lookups finished.",
     &dht::NodeStats::lookups_finished},
    {"stores_accepted", "Store requests accepted.",
     &dht::NodeStats::stores_accepted},
    {"stores_rejected", "Store requests refused.",
     &dht::NodeStats::stores_rejected},
    {"replication_rounds", "Periodic replication rounds run.",
     &dht::NodeStats::replication_rounds},
    {"offers_sent", "Replication offer datagrams sent.",
     &dht::NodeStats::offers_sent},
    {"summaries_offered", "Record summaries sent in offers.",
     &dht::NodeStats::summaries_offered},
    {"records_pushed", "Records stored on peers that wanted them.",
     &dht::NodeStats::records_pushed},
    {"maintenance_bytes",
     "Wire bytes of the replication exchanges this node started.",
     &dht::NodeStats::maintenance_bytes},
    {"requests_dropped",
     "Requests dropped unanswered by the per-source and global limits.",
     &dht::NodeStats::requests_refused},
    {"reply_bytes_withheld",
     "Reply bytes not sent: the destination was over its reply budget.",
     &dht::NodeStats::reply_bytes_withheld},
};

// Appends the # HELP and # TYPE lines of metric `name`.
void Header(std::string& out, absl::string_view name, absl::string_view help,
            absl::string_view type) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                  type, "\n");
}

// Returns `value` as a label value: backslash, double quote and newline
// escaped, as the exposition format requires.
std::string EscapeLabel(absl::string_view value) {
  std::string escaped;
  for (char c : value) {
    switch (c) {
      case '\\':
        escaped += "\\\\";
        break;
      case '"':
        escaped += "\\\"";
        break;
      case '\n':
        escaped += "\\n";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

// Formats seconds with the fewest digits (15 to 17) that read back as
// the same double.
std::string Seconds(absl::Duration duration) {
  const double seconds = absl::ToDoubleSeconds(duration);
  std::string text;
  for (int digits = 15; digits <= 17; ++digits) {
    text = absl::StrFormat("%.*g", digits, seconds);
    if (std::strtod(text.c_str(), nullptr) == seconds) break;
  }
  return text;
}

void Gauge(std::string& out, absl::string_view name, absl::string_view help,
           uint64_t value) {
  Header(out, name, help, "gauge");
  absl::StrAppend(&out, name, " ", value, "\n");
}

// kad_messages_<direction>_total{type="..."}, one sample per message type.
void MessageCounters(
    std::string& out, absl::string_view direction, absl::string_view help,
    const std::array<uint64_t, dht::kMessageTypeCount>& by_type) {
  const std::string name = absl::StrCat("kad_messages_", direction, "_total");
  Header(out, name, help, "counter");
  for (size_t i = 0; i < by_type.size(); ++i) {
    absl::StrAppend(
        &out, name, "{type=\"",
        EscapeLabel(dht::MessageTypeName(static_cast<dht::MessageType>(i))),
        "\"} ", by_type[i], "\n");
  }
}

// kad_stores_refused_total{reason="..."}, one sample per error code.
void StoreRefusals(
    std::string& out,
    const std::array<uint64_t, dht::kErrorCodeCount>& by_code) {
  constexpr absl::string_view kName = "kad_stores_refused_total";
  Header(out, kName, "Store requests refused, by the error code answered.",
         "counter");
  for (size_t code = 1; code < by_code.size(); ++code) {
    absl::StrAppend(
        &out, kName, "{reason=\"",
        EscapeLabel(dht::ErrorCodeName(static_cast<dht::ErrorCode>(code))),
        "\"} ", by_code[code], "\n");
  }
}

void LookupHistogram(std::string& out, const dht::LatencyBuckets& buckets) {
  constexpr absl::string_view kName = "kad_lookup_duration_seconds";
  Header(out, kName, "Durations of the node's finished lookups.", "histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < dht::kLatencyBucketBounds.size(); ++i) {
    cumulative += buckets.counts[i];
    absl::StrAppend(&out, kName, "_bucket{le=\"",
                    absl::ToDoubleSeconds(dht::kLatencyBucketBounds[i]), "\"} ",
                    cumulative, "\n");
  }
  absl::StrAppend(&out, kName, "_bucket{le=\"+Inf\"} ", buckets.count, "\n",
                  kName, "_sum ", Seconds(buckets.sum), "\n", kName, "_count ",
                  buckets.count, "\n");
}

}  // namespace

MetricsSnapshot TakeMetricsSnapshot(const dht::Node& node) {
  return MetricsSnapshot{
      .node_id = node.id().ToHex(),
      .stats = node.StatsSnapshot(),
      .counters = node.stats(),
      .lookup_duration = node.lookup_latency().histogram().Buckets()};
}

std::string FormatPrometheus(const MetricsSnapshot& snapshot) {
  std::string out;
  Header(out, "kad_node_info", "The node's id (always 1).", "gauge");
  absl::StrAppend(&out, "kad_node_info{id=\"", EscapeLabel(snapshot.node_id),
                  "\"} 1\n");
  Gauge(out, "kad_uptime_seconds", "Seconds since the node started.",
        snapshot.stats.uptime_seconds);
  uint64_t contacts = 0;
  for (const dht::BucketCount& bucket : snapshot.stats.buckets) {
    contacts += bucket.contacts;
  }
  Gauge(out, "kad_contacts", "Contacts in the routing table.", contacts);
  Gauge(out, "kad_buckets", "Buckets in the routing table.",
        snapshot.stats.buckets.size());
  Gauge(out, "kad_records", "Live records held.", snapshot.stats.records);
  Gauge(out, "kad_record_bytes", "Footprint of the records held, in bytes.",
        snapshot.stats.record_bytes);
  for (const Counter& counter : kCounters) {
    const std::string name = absl::StrCat("kad_", counter.name, "_total");
    Header(out, name, counter.help, "counter");
    absl::StrAppend(&out, name, " ", snapshot.counters.*counter.field, "\n");
  }
  Header(out, "kad_sources_banned_total",
         "Source addresses banned for exceeding their request limit.",
         "counter");
  absl::StrAppend(&out, "kad_sources_banned_total ",
                  snapshot.stats.sources_banned, "\n");
  StoreRefusals(out, snapshot.counters.stores_refused);
  MessageCounters(out, "in", "Messages received, by type.",
                  snapshot.counters.messages_in);
  MessageCounters(out, "out", "Messages sent, by type.",
                  snapshot.counters.messages_out);
  LookupHistogram(out, snapshot.lookup_duration);
  return out;
}

}  // namespace kad::runtime

#include "cli/output.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "dht/message.h"

namespace kad::cli {
namespace {

// Returns the length of the UTF-8 sequence starting at `bytes[0]`, or 0 if
// it is malformed.
size_t Utf8SequenceLength(std::string_view bytes) {
  const auto lead = static_cast<uint8_t>(bytes[0]);
  size_t length;
  uint32_t code_point;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (bytes.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    const auto next = static_cast<uint8_t>(bytes[i]);
    if ((next & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (next & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length] || code_point > 0x10FFFF) return 0;
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return 0;
  return length;
}

// Milliseconds rounded to microseconds, for JSON.
double Milliseconds(absl::Duration duration) {
  return std::round(absl::ToDoubleMilliseconds(duration) * 1000) / 1000;
}

// A contact's RTT for JSON: null if it was never measured.
nlohmann::json RttJson(absl::Duration rtt) {
  if (rtt == absl::ZeroDuration()) return nullptr;
  return Milliseconds(rtt);
}

std::string RttText(absl::Duration rtt) {
  if (rtt == absl::ZeroDuration()) return "-";
  return absl::StrFormat("%.1f ms", absl::ToDoubleMilliseconds(rtt));
}

nlohmann::json LookupJson(const dht::NodeId& target,
                          const dht::LookupResult& result) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const dht::ContactInfo& info : result.closest) {
    nodes.push_back({{"id", info.contact.id.ToHex()},
                     {"address", info.contact.endpoint.ToString()},
                     {"distance", info.contact.id.DistanceTo(target).ToHex()},
                     {"rtt_ms", RttJson(info.rtt)}});
  }
  return {{"target", target.ToHex()},
          {"nodes", std::move(nodes)},
          {"hops", result.stats.hops},
          {"rpcs", result.stats.rpcs},
          {"elapsed_ms", Milliseconds(result.stats.elapsed)}};
}

// One line per node under a header, then a summary line.
std::string LookupText(const dht::NodeId& target,
                       const dht::LookupResult& result) {
  std::string text =
      absl::StrFormat("target %s\n%-40s  %-21s  %-40s  %s\n", target.ToHex(),
                      "id", "address", "distance", "rtt");
  for (const dht::ContactInfo& info : result.closest) {
    absl::StrAppendFormat(&text, "%s  %-21s  %s  %s\n", info.contact.id.ToHex(),
                          info.contact.endpoint.ToString(),
                          info.contact.id.DistanceTo(target).ToHex(),
                          RttText(info.rtt));
  }
  absl::StrAppendFormat(&text, "%d nodes; %d hops, %d rpcs, %.1f ms\n",
                        result.closest.size(), result.stats.hops,
                        result.stats.rpcs,
                        absl::ToDoubleMilliseconds(result.stats.elapsed));
  return text;
}

using PerType = std::vector<uint64_t>;

// Names the types this version knows; a newer peer's others by number.
std::string TypeName(size_t type) {
  if (type >= dht::kMessageTypeCount) return absl::StrCat("type_", type);
  return dht::MessageTypeName(static_cast<dht::MessageType>(type));
}

uint64_t TotalContacts(const dht::StatsReply& stats) {
  uint64_t total = 0;
  for (const dht::BucketCount& bucket : stats.buckets) total += bucket.contacts;
  return total;
}

nlohmann::json PerTypeJson(const PerType& counts) {
  nlohmann::json object = nlohmann::json::object();
  for (size_t type = 0; type < counts.size(); ++type) {
    object[TypeName(type)] = counts[type];
  }
  return object;
}

// Names the error codes this version knows; a newer peer's others by number.
std::string CodeName(size_t code) {
  if (code >= dht::kErrorCodeCount) return absl::StrCat("code_", code);
  return dht::ErrorCodeName(static_cast<dht::ErrorCode>(code));
}

// {"source_quota": 3, ...}: the non-zero counts of `by_code`, by code name.
template <typename Count>
nlohmann::json RefusedJson(std::span<const Count> by_code) {
  nlohmann::json object = nlohmann::json::object();
  for (size_t code = 0; code < by_code.size(); ++code) {
    if (by_code[code] != 0) object[CodeName(code)] = by_code[code];
  }
  return object;
}
nlohmann::json RefusedJson(const std::array<int, dht::kErrorCodeCount>& codes) {
  return RefusedJson(std::span<const int>(codes));
}

nlohmann::json LatencyJson(const dht::LatencyPercentiles& latency) {
  auto ms = [](uint64_t us) {
    return Milliseconds(absl::Microseconds(static_cast<int64_t>(us)));
  };
  return {{"p50", ms(latency.p50_us)},
          {"p90", ms(latency.p90_us)},
          {"p99", ms(latency.p99_us)},
          {"max", ms(latency.max_us)}};
}

nlohmann::json StatsJson(const dht::StatsReport& report) {
  const dht::StatsReply& s = report.stats;
  nlohmann::json buckets = nlohmann::json::array();
  for (const dht::BucketCount& bucket : s.buckets) {
    buckets.push_back({{"prefix_length", bucket.prefix_length},
                       {"contacts", bucket.contacts}});
  }
  return {{"id", report.id.ToHex()},
          {"address", report.address.ToString()},
          {"uptime_seconds", s.uptime_seconds},
          {"contacts", TotalContacts(s)},
          {"buckets", std::move(buckets)},
          {"records", s.records},
          {"record_bytes", s.record_bytes},
          {"datagrams_in", s.datagrams_in},
          {"datagrams_out", s.datagrams_out},
          {"bytes_in", s.bytes_in},
          {"bytes_out", s.bytes_out},
          {"malformed_in", s.malformed_in},
          {"unmatched_responses", s.unmatched_responses},
          {"messages_in", PerTypeJson(s.messages_in)},
          {"messages_out", PerTypeJson(s.messages_out)},
          {"rpc_timeouts", s.rpc_timeouts},
          {"rpc_failures", s.rpc_failures},
          {"lookups_started", s.lookups_started},
          {"lookups_finished", s.lookups_finished},
          {"lookup_latency_ms", LatencyJson(s.lookup_latency)},
          {"stores_accepted", s.stores_accepted},
          {"stores_rejected", s.stores_rejected},
          {"stores_refused", RefusedJson(std::span<const uint64_t>(
                                 s.stores_refused))},
          {"requests_dropped", s.requests_dropped},
          {"sources_banned", s.sources_banned},
          {"reply_bytes_withheld", s.reply_bytes_withheld}};
}

// "ping 3, find_node 12", leaving out types never seen; "none" if empty.
std::string PerTypeText(const PerType& counts) {
  std::string text;
  for (size_t type = 0; type < counts.size(); ++type) {
    if (counts[type] == 0) continue;
    absl::StrAppend(&text, text.empty() ? "" : ", ", TypeName(type), " ",
                    counts[type]);
  }
  return text.empty() ? "none" : text;
}

std::string LatencyText(const dht::LatencyPercentiles& latency) {
  return absl::StrFormat("p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
                         latency.p50_us / 1000.0, latency.p90_us / 1000.0,
                         latency.p99_us / 1000.0, latency.max_us / 1000.0);
}

std::string StatsText(const dht::StatsReport& report) {
  const dht::StatsReply& s = report.stats;
  std::string buckets;
  for (const dht::BucketCount& bucket : s.buckets) {
    absl::StrAppend(&buckets, buckets.empty() ? "" : " ", bucket.prefix_length,
                    ":", bucket.contacts);
  }
  std::string text;
  auto line = [&text](const char* label, const std::string& value) {
    absl::StrAppendFormat(&text, "%-13s%s\n", label, value);
  };
  line("id", report.id.ToHex());
  line("address", report.address.ToString());
  line("uptime", s.uptime_seconds == 0
                     ? "0s"
                     : absl::FormatDuration(absl::Seconds(s.uptime_seconds)));
  line("contacts",
       absl::StrCat(TotalContacts(s), " in ", s.buckets.size(),
                    s.buckets.size() == 1 ? " bucket" : " buckets"));
  line("buckets", absl::StrCat(buckets, "  (prefix length:contacts)"));
  line("records", absl::StrCat(s.records, " (", s.record_bytes, " bytes)"));
  line("datagrams",
       absl::StrCat("in ", s.datagrams_in, " (", s.bytes_in, " bytes), out ",
                    s.datagrams_out, " (", s.bytes_out, " bytes)"));
  line("dropped", absl::StrCat(s.malformed_in, " malformed, ",
                               s.unmatched_responses, " unmatched responses"));
  line("messages in", PerTypeText(s.messages_in));
  line("messages out", PerTypeText(s.messages_out));
  line("rpcs", absl::StrCat(s.rpc_timeouts, " timed out, ", s.rpc_failures,
                            " given up"));
  line("lookups", absl::StrCat(s.lookups_started, " started, ",
                               s.lookups_finished, " finished"));
  line("latency", LatencyText(s.lookup_latency));
  line("stores", absl::StrCat(s.stores_accepted, " accepted, ",
                              s.stores_rejected, " rejected"));
  std::string refused;
  for (size_t code = 0; code < s.stores_refused.size(); ++code) {
    if (s.stores_refused[code] == 0) continue;
    absl::StrAppend(&refused, refused.empty() ? "" : ", ", CodeName(code), " ",
                    s.stores_refused[code]);
  }
  line("refused", refused.empty() ? "none" : refused);
  line("limits", absl::StrCat(s.requests_dropped, " requests dropped, ",
                              s.sources_banned, " sources banned, ",
                              s.reply_bytes_withheld,
                              " reply bytes withheld"));
  return text;
}

}  // namespace

void PrintError(std::string_view message) {
  std::fprintf(stderr, "kad: error: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

absl::Status Annotate(const absl::Status& status, const std::string& context) {
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

ExitCode ReportFailure(const absl::Status& status) {
  PrintError(
      std::string_view(status.message().data(), status.message().size()));
  return ExitCodeFor(status);
}

bool IsValidUtf8(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t length = Utf8SequenceLength(bytes);
    if (length == 0) return false;
    bytes.remove_prefix(length);
  }
  return true;
}

void PrintJson(const nlohmann::json& object) {
  PrintText(
      object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
      "\n");
}

void PrintText(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void PrintPut(const std::string& key, const dht::PutResult& result, bool json,
              const PutLabels& labels) {
  if (json) {
    nlohmann::json object = {{"key", key},
                             {"key_id", result.key_id.ToHex()},
                             {"seq", result.seq},
                             {"stored", result.stored},
                             {"attempted", result.attempted},
                             {"refused", RefusedJson(result.refused)}};
    if (!labels.address.empty()) object[labels.address_label] = labels.address;
    if (!labels.owner.empty()) object["owner"] = labels.owner;
    PrintJson(object);
    return;
  }
  std::string text = absl::StrFormat(
      "stored %s\"%s\" on %d of %d nodes (seq %d)\n",
      labels.kind.empty() ? "" : labels.kind + " ", absl::CHexEscape(key),
      result.stored, result.attempted, result.seq);
  if (std::string refused = dht::RefusalCountsText(result.refused);
      !refused.empty()) {
    absl::StrAppend(&text, "refused by ", refused, "\n");
  }
  if (!labels.address.empty()) {
    absl::StrAppend(&text, labels.address_label, " ", labels.address, "\n");
  }
  PrintText(text);
}

void PrintGet(const std::string& key, const dht::GetResult& result, bool json) {
  const storage::Record& record = result.record;
  if (!json) {
    PrintText(record.value);
    return;
  }
  bool utf8 = IsValidUtf8(record.value);
  PrintJson({{"key", key},
             {"value", utf8 ? record.value : absl::Base64Escape(record.value)},
             {"encoding", utf8 ? "utf-8" : "base64"},
             {"seq", record.seq},
             {"replicas", result.replicas},
             {"expires", absl::FormatTime(absl::RFC3339_sec, record.expires,
                                          absl::UTCTimeZone())}});
}

void PrintPing(const net::Endpoint& address, const dht::PingResult& result,
               bool json) {
  if (json) {
    PrintJson({{"id", result.id.ToHex()},
               {"address", address.ToString()},
               {"rtt_ms", Milliseconds(result.rtt)}});
    return;
  }
  PrintText(absl::StrFormat("pong from %s at %s in %.1f ms\n",
                            result.id.ToHex(), address.ToString(),
                            absl::ToDoubleMilliseconds(result.rtt)));
}

void PrintLookup(const dht::NodeId& target, const dht::LookupResult& result,
                 bool json) {
  if (json) {
    PrintJson(LookupJson(target, result));
  } else {
    PrintText(LookupText(target, result));
  }
}

void PrintStats(const dht::StatsReport& report, bool json) {
  if (json) {
    PrintJson(StatsJson(report));
  } else {
    PrintText(StatsText(report));
  }
}

}  // namespace kad::cli

#include "bench/lookup_report.h"

#include <cstdio>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace kad::bench {
namespace {

using Json = nlohmann::ordered_json;

const char* TransportName(BenchTransport transport) {
  return transport == BenchTransport::kSim ? "sim" : "udp";
}

Json SummaryJson(const Summary& s) {
  return Json{{"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90},
              {"p99", s.p99},   {"max", s.max}};
}

// The five summaries, as top-level fields of `out`.
void AddSummaries(const LookupStatsSummary& stats, Json& out) {
  out["hops"] = SummaryJson(stats.hops);
  out["rpcs"] = SummaryJson(stats.rpcs);
  out["bytes"] = SummaryJson(stats.bytes);
  out["latency_ms"] = SummaryJson(stats.latency_ms);
  out["latency_rtt"] = SummaryJson(stats.latency_rtt);
  Json cdf = Json::array();
  for (const auto& [ms, fraction] : stats.latency_cdf) {
    cdf.push_back(Json::array({ms, fraction}));
  }
  out["latency_cdf"] = std::move(cdf);
}

Json KindJson(const LookupStatsSummary& stats) {
  Json out{{"lookups", stats.lookups},
           {"success_rate", stats.success_rate()},
           {"failures", stats.lookups - stats.successes}};
  AddSummaries(stats, out);
  return out;
}

// "shared" for eclipse Sybils on one /64, else "spread" (drop adversaries
// always are).
const char* SybilPrefixName(const LookupBenchOptions& o) {
  return o.attack == AttackMode::kEclipse && o.sybils_share_prefix ? "shared"
                                                                   : "spread";
}

// Returns a / b, or null when b is 0.
Json Ratio(double a, double b) { return b > 0 ? Json(a / b) : Json(nullptr); }

void AddBaseline(const BaselineReport& baseline, Json& out) {
  Json flooding = KindJson(baseline.flooding);
  flooding["kind"] = "flooding";
  out["baseline"] = std::move(flooding);
  const LookupStatsSummary& kad = baseline.kademlia_same;
  const LookupStatsSummary& flood = baseline.flooding;
  out["ratio"] = Json{
      {"lookups", baseline.lookups},
      {"messages", Ratio(kad.rpcs.mean, flood.rpcs.mean)},
      {"bytes", Ratio(kad.bytes.mean, flood.bytes.mean)},
      {"latency", Ratio(kad.latency_ms.mean, flood.latency_ms.mean)}};
}

void Flatten(const Json& json, const std::string& prefix,
             std::vector<std::string>& names,
             std::vector<std::string>& values) {
  for (const auto& [key, value] : json.items()) {
    const std::string name = prefix.empty() ? key : absl::StrCat(prefix, "_", key);
    if (value.is_object()) {
      Flatten(value, name, names, values);
      continue;
    }
    if (value.is_array()) continue;  // The CDFs: JSON only.
    names.push_back(name);
    values.push_back(value.is_string() ? value.get<std::string>()
                                       : value.dump());
  }
}

std::string TableRows(std::string_view title, const LookupStatsSummary& s) {
  std::string out = absl::StrFormat(
      "%-22s %10s %10s %10s %10s %10s\n",
      absl::StrFormat("%s (%d ok)", title, s.successes), "mean", "p50", "p90",
      "p99", "max");
  auto row = [&out](std::string_view name, const Summary& v) {
    absl::StrAppendFormat(&out, "  %-20s %10.2f %10.2f %10.2f %10.2f %10.2f\n",
                          name, v.mean, v.p50, v.p90, v.p99, v.max);
  };
  row("hops", s.hops);
  row("rpcs", s.rpcs);
  row("bytes", s.bytes);
  row("latency ms", s.latency_ms);
  row("latency x median RTT", s.latency_rtt);
  return out;
}

}  // namespace

nlohmann::ordered_json ReportJson(const LookupBenchReport& r) {
  const LookupBenchOptions& o = r.options;
  Json out{{"nodes", r.nodes},
           {"lookups", r.lookups},
           {"seed", o.seed},
           {"transport", TransportName(o.transport)},
           {"bootstrap_seconds", r.bootstrap_seconds},
           {"bytes_per_node", r.bytes_per_node},
           {"success_rate", r.all.success_rate()}};
  AddSummaries(r.all, out);
  out["failures"] = r.all.lookups - r.all.successes;
  out["lookups_planned"] = o.lookups;
  out["interrupted"] = r.interrupted;
  out["k"] = o.k;
  out["alpha"] = o.alpha;
  out["disjoint_paths"] = o.disjoint_paths;
  out["join"] = o.join == JoinMethod::kOracle ? "oracle" : "protocol";
  out["rtt_model"] = o.transport == BenchTransport::kSim ? o.rtt_model : "";
  out["loss"] = o.loss;
  out["churn"] = o.churn;
  out["churn_replaced"] = r.churn_replaced;
  out["in_flight"] = o.in_flight;
  out["sim_threads"] = o.sim_threads;
  out["id_binding"] = IdBindingName(o.id_binding);
  out["median_rtt_ms"] = r.median_rtt_ms;
  out["bootstrap_virtual_seconds"] = r.bootstrap_virtual_seconds;
  out["bootstrap_failures"] = r.bootstrap_failures;
  out["lookup_seconds"] = r.lookup_seconds;
  out["keys"] = r.keys;
  out["put_failures"] = r.put_failures;
  out["find_node"] = KindJson(r.find_node);
  out["get"] = KindJson(r.get);
  if (r.baseline) AddBaseline(*r.baseline, out);
  if (r.adversary) {
    const AdversaryReport& a = *r.adversary;
    Json adversary{{"fraction", o.adversary},
                   {"attack", AttackModeName(o.attack)},
                   {"sybil_prefix", SybilPrefixName(o)},
                   {"adversaries", a.adversaries},
                   {"eclipsed_keys", a.eclipsed_keys},
                   {"stores_dropped", a.stores_dropped},
                   {"finds_answered", a.finds_answered},
                   {"get_success_rate", r.get.success_rate()},
                   {"sybils_in_closest", a.sybils_in_closest},
                   {"closest_sybil_cpl", a.closest_sybil_cpl},
                   {"eclipsed_get_success_rate",
                    a.eclipsed_gets.lookups > 0
                        ? Json(a.eclipsed_gets.success_rate())
                        : Json(nullptr)}};
    out["adversary"] = std::move(adversary);
  }
  return out;
}

std::string ReportCsv(const LookupBenchReport& report) {
  std::vector<std::string> names, values;
  Flatten(ReportJson(report), "", names, values);
  return absl::StrCat(absl::StrJoin(names, ","), "\n",
                      absl::StrJoin(values, ","), "\n");
}

std::string ReportTable(const LookupBenchReport& r) {
  const LookupBenchOptions& o = r.options;
  std::string out = absl::StrFormat(
      "kad bench lookup: %d %s nodes, %d lookups, seed %d (k %d, alpha %d, "
      "d %d",
      r.nodes, o.transport == BenchTransport::kSim ? "simulated" : "UDP",
      r.lookups, o.seed, o.k, o.alpha, o.disjoint_paths);
  if (o.transport == BenchTransport::kSim) {
    absl::StrAppendFormat(&out, ", rtt %s, loss %g, churn %g", o.rtt_model,
                          o.loss, o.churn);
  }
  absl::StrAppendFormat(&out, ")%s\n", r.interrupted ? " — INTERRUPTED" : "");
  if (o.transport == BenchTransport::kSim && o.join == JoinMethod::kOracle) {
    absl::StrAppendFormat(
        &out, "oracle join (tables from a global view, nothing sent): "
              "%.1f s wall; %.0f bytes per node\n",
        r.bootstrap_seconds, r.bytes_per_node);
  } else {
    absl::StrAppendFormat(
        &out,
        "bootstrap: %.1f s wall, %.1f s virtual, %d failed; %.0f bytes per "
        "node\n",
        r.bootstrap_seconds, r.bootstrap_virtual_seconds,
        r.bootstrap_failures, r.bytes_per_node);
  }
  absl::StrAppendFormat(
      &out, "lookups: %.1f s wall; median RTT %.1f ms; success %.2f %% "
            "(find_node %.2f %%, get %.2f %%); %d replaced by churn\n\n",
      r.lookup_seconds, r.median_rtt_ms, 100 * r.all.success_rate(),
      100 * r.find_node.success_rate(), 100 * r.get.success_rate(),
      r.churn_replaced);
  if (r.adversary) {
    const AdversaryReport& a = *r.adversary;
    absl::StrAppendFormat(
        &out,
        "adversaries: %d (%g, %s, %s prefix); get success %.2f %%; %d "
        "eclipsed keys, their gets %.2f %%; %d stores dropped\n",
        a.adversaries, o.adversary, AttackModeName(o.attack),
        SybilPrefixName(o),
        100 * r.get.success_rate(), a.eclipsed_keys,
        100 * a.eclipsed_gets.success_rate(), a.stores_dropped);
    absl::StrAppendFormat(
        &out,
        "id binding %s; per eclipsed key: %.1f Sybils among its k closest "
        "nodes, closest Sybil shares %.1f bits with it\n\n",
        IdBindingName(o.id_binding), a.sybils_in_closest,
        a.closest_sybil_cpl);
  }
  absl::StrAppend(&out, TableRows("all lookups", r.all), "\n",
                  TableRows("find_node", r.find_node), "\n",
                  TableRows("get", r.get));
  if (r.baseline) {
    const Json ratio = ReportJson(r)["ratio"];
    // A ratio is null when flooding's mean is zero.
    auto shown = [](const Json& v) {
      return v.is_number() ? absl::StrFormat("%.4g", v.get<double>())
                           : std::string("n/a");
    };
    absl::StrAppend(&out, "\n", TableRows("flooding", r.baseline->flooding),
                    "kademlia / flooding over the same ", r.baseline->lookups,
                    " lookups: messages ", shown(ratio["messages"]),
                    ", bytes ", shown(ratio["bytes"]), ", latency ",
                    shown(ratio["latency"]), "\n");
  }
  return out;
}

}  // namespace kad::bench

#include "bench/rpc_report.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kad::bench {
namespace {

using Json = nlohmann::ordered_json;

std::string TargetName(ServerKind server, RpcGate gate) {
  switch (server) {
    case ServerKind::kRawEcho:
      return "raw_echo";
    case ServerKind::kLibuvEcho:
      return "libuv_echo";
    case ServerKind::kNode:
      break;
  }
  return absl::StrCat("node_gate_", RpcGateName(gate));
}

// What a result's rate is measured against: wall-clock time, or the
// server thread's CPU time.
using Metric = double (LoadResult::*)() const;
constexpr Metric kPerCpu = &LoadResult::replies_per_cpu_second;
constexpr Metric kPerWall = &LoadResult::replies_per_second;

// The rounds of one target and request kind.
struct Result {
  ServerKind server;
  RpcGate gate;
  RpcRequest request;
  std::vector<const RpcPhase*> rounds;  // In round order.

  std::string target() const { return TargetName(server, gate); }
  // Returns the median round by `metric` (the lower middle one).
  const RpcPhase& median(Metric metric = kPerCpu) const {
    std::vector<const RpcPhase*> sorted = rounds;
    std::sort(sorted.begin(), sorted.end(), [metric](auto* a, auto* b) {
      return (a->load.*metric)() < (b->load.*metric)();
    });
    return *sorted[(sorted.size() - 1) / 2];
  }
  double rate(Metric metric = kPerCpu) const {
    return (median(metric).load.*metric)();
  }
  // Returns the rate in `round`, or nullopt if it did not run.
  std::optional<double> RateIn(int round, Metric metric) const {
    for (const RpcPhase* phase : rounds) {
      if (phase->round == round) return (phase->load.*metric)();
    }
    return std::nullopt;
  }
};

std::vector<Result> Group(const RpcBenchReport& report) {
  std::vector<Result> results;
  for (const RpcPhase& phase : report.phases) {
    auto same = [&](const Result& r) {
      return r.server == phase.server && r.request == phase.request &&
             (phase.server != ServerKind::kNode || r.gate == phase.gate);
    };
    auto it = std::find_if(results.begin(), results.end(), same);
    if (it == results.end()) {
      results.push_back({phase.server, phase.gate, phase.request, {}});
      it = results.end() - 1;
    }
    it->rounds.push_back(&phase);
  }
  return results;
}

const Result* Find(const std::vector<Result>& results, const std::string& target,
                   RpcRequest request) {
  for (const Result& r : results) {
    if (r.target() == target && r.request == request) return &r;
  }
  return nullptr;
}

// Returns the median over rounds of a / b within each round, or nullopt.
std::optional<double> PairedRatio(const Result& a, const Result& b,
                                  Metric metric) {
  std::vector<double> ratios;
  for (const RpcPhase* phase : a.rounds) {
    std::optional<double> rate_b = b.RateIn(phase->round, metric);
    if (rate_b && *rate_b > 0) {
      ratios.push_back((phase->load.*metric)() / *rate_b);
    }
  }
  if (ratios.empty()) return std::nullopt;
  std::sort(ratios.begin(), ratios.end());
  return ratios[(ratios.size() - 1) / 2];
}

Json GateJson(const dht::RequestGateStats& gate) {
  const dht::AdmissionStats& a = gate.admission;
  const dht::ReplyBudgetStats& r = gate.replies;
  return Json{{"admitted", a.admitted},
              {"admitted_exempt", a.admitted_exempt},
              {"dropped_address_limit", a.dropped_address_limit},
              {"dropped_prefix_limit", a.dropped_prefix_limit},
              {"dropped_global_limit", a.dropped_global_limit},
              {"dropped_banned", a.dropped_banned},
              {"bans", a.bans},
              {"replies_withheld", r.withheld()},
              {"reply_bytes_withheld", r.bytes_withheld}};
}

Json PhaseJson(const RpcPhase& phase) {
  const LoadResult& load = phase.load;
  Json server{{"datagrams_received", phase.counts.datagrams_received},
              {"datagrams_sent", phase.counts.datagrams_sent},
              {"send_errors", phase.counts.send_errors}};
  if (phase.server == ServerKind::kLibuvEcho) {
    server["recvmmsg"] = phase.counts.recvmmsg;
  }
  if (phase.counts.gate) server["gate"] = GateJson(*phase.counts.gate);
  Json out{{"round", phase.round},
           {"seconds", load.seconds},
           {"per_s", load.replies_per_second()},
           {"per_cpu_s", load.replies_per_cpu_second()},
           {"server_cpu_seconds", load.server_cpu_seconds},
           {"client_cpu_seconds", load.client_cpu_seconds},
           {"sent_per_s", load.sent_per_second()},
           {"replies", load.replies},
           {"timeouts", load.timeouts},
           {"stale", load.stale},
           {"answered", load.replies + load.stale},
           {"mismatched", load.mismatched},
           {"send_errors", load.send_errors},
           {"request_bytes", phase.request_bytes},
           {"reply_bytes_mean",
            load.replies > 0 ? static_cast<double>(load.reply_bytes) /
                                   static_cast<double>(load.replies)
                             : 0.0},
           {"latency_us",
            Json{{"p50", load.latency_us.p50},
                 {"p90", load.latency_us.p90},
                 {"p99", load.latency_us.p99},
                 {"max", load.latency_us.max}}}};
  if (phase.server == ServerKind::kNode) {
    out["reply_contacts"] = phase.reply_contacts;
    out["reply_has_record"] = phase.reply_has_record;
  }
  out["server"] = std::move(server);
  return out;
}

Json OptionsJson(const RpcBenchOptions& o) {
  return Json{{"window", o.load.window},
              {"batch", o.load.batch},
              {"warmup_ms", absl::ToDoubleMilliseconds(o.load.warmup)},
              {"duration_ms", absl::ToDoubleMilliseconds(o.load.duration)},
              {"timeout_ms", absl::ToDoubleMilliseconds(o.load.timeout)},
              {"server_cpu", o.server_cpu},
              {"client_cpu", o.client_cpu},
              {"receive_batch", o.receive_batch},
              {"repeat", o.repeat},
              {"value_bytes", o.value_bytes},
              {"contacts", o.contacts}};
}

// Node gate / baseline ratios of ping rates, per CPU second and per
// wall-clock second, and the gate's cost.
struct Derived {
  Json ratios = Json::object();
  Json ratios_wall = Json::object();
  Json gate_cost_ns = Json::object();
};

void AddRatio(const Result& a, const Result& b, Derived& d) {
  std::string name = absl::StrCat(a.target(), "/", b.target());
  if (auto r = PairedRatio(a, b, kPerCpu)) d.ratios[name] = *r;
  if (auto r = PairedRatio(a, b, kPerWall)) d.ratios_wall[name] = *r;
}

Derived Derive(const std::vector<Result>& results) {
  Derived d;
  const Result* raw = Find(results, "raw_echo", RpcRequest::kPing);
  const Result* uv = Find(results, "libuv_echo", RpcRequest::kPing);
  if (raw && uv) AddRatio(*uv, *raw, d);
  for (const Result& node : results) {
    if (node.server != ServerKind::kNode) continue;
    if (node.request == RpcRequest::kPing) {
      for (const Result* base : {uv, raw}) {
        if (base != nullptr) AddRatio(node, *base, d);
      }
    }
    if (node.gate == RpcGate::kOff || node.gate == RpcGate::kDefault) continue;
    const Result* off = Find(results, "node_gate_off", node.request);
    if (off == nullptr || off->rate() <= 0 || node.rate() <= 0) continue;
    std::string kind(RpcRequestName(node.request));
    if (!d.gate_cost_ns.contains(kind)) d.gate_cost_ns[kind] = Json::object();
    d.gate_cost_ns[kind][std::string(RpcGateName(node.gate))] =
        1e9 / node.rate() - 1e9 / off->rate();
  }
  return d;
}

}  // namespace

Json RpcReportJson(const RpcBenchReport& report) {
  std::vector<Result> results = Group(report);
  Json out{{"benchmark", "rpc"},
           {"interrupted", report.interrupted},
           {"options", OptionsJson(report.options)}};
  Json list = Json::array();
  for (const Result& r : results) {
    Json samples = Json::array();
    Json cpu_samples = Json::array();
    for (const RpcPhase* phase : r.rounds) {
      samples.push_back(phase->load.replies_per_second());
      cpu_samples.push_back(phase->load.replies_per_cpu_second());
    }
    list.push_back(Json{
        {"target", r.target()},
        {"gate", r.server == ServerKind::kNode
                     ? Json(std::string(RpcGateName(r.gate)))
                     : Json(nullptr)},
        {"request", std::string(RpcRequestName(r.request))},
        {"requests_per_cpu_s", r.rate(kPerCpu)},
        {"requests_per_s", r.rate(kPerWall)},
        {"samples_per_cpu_s", std::move(cpu_samples)},
        {"samples_per_s", std::move(samples)},
        {"median_round", PhaseJson(r.median())}});
  }
  out["results"] = std::move(list);
  Derived derived = Derive(results);
  out["ratios"] = std::move(derived.ratios);
  out["ratios_wall"] = std::move(derived.ratios_wall);
  out["gate_cost_ns"] = std::move(derived.gate_cost_ns);
  return out;
}

std::string RpcReportTable(const RpcBenchReport& report) {
  std::vector<Result> results = Group(report);
  std::string text = absl::StrFormat(
      "%-18s %-19s %11s %11s %11s %8s %8s %8s %8s %5s\n", "target",
      "request", "per CPU-s", "replies/s", "sent/s", "timeouts", "late",
      "p50 us", "p99 us", "bytes");
  for (const Result& r : results) {
    const RpcPhase& m = r.median();
    absl::StrAppendFormat(
        &text, "%-18s %-19s %11.0f %11.0f %11.0f %8d %8d %8.0f %8.0f %5.0f\n",
        r.target(), RpcRequestName(r.request), r.rate(kPerCpu),
        r.rate(kPerWall),
        m.load.sent_per_second(), m.load.timeouts, m.load.stale,
        m.load.latency_us.p50,
        m.load.latency_us.p99,
        m.load.replies > 0 ? static_cast<double>(m.load.reply_bytes) /
                                 static_cast<double>(m.load.replies)
                           : 0.0);
  }
  Derived derived = Derive(results);
  for (const auto& [name, ratio] : derived.ratios.items()) {
    absl::StrAppendFormat(&text, "ratio per CPU-s %-36s %.3f (wall: %.3f)\n",
                          name, ratio.get<double>(),
                          derived.ratios_wall.value(name, 0.0));
  }
  for (const auto& [kind, costs] : derived.gate_cost_ns.items()) {
    for (const auto& [gate, ns] : costs.items()) {
      absl::StrAppendFormat(&text, "gate %-8s cost on %-19s %+.0f ns/request\n",
                            gate, kind, ns.get<double>());
    }
  }
  if (report.options.repeat > 1) {
    absl::StrAppendFormat(&text, "(medians of %d rounds)\n",
                          report.options.repeat);
  }
  if (report.interrupted) text += "(interrupted)\n";
  return text;
}

}  // namespace kad::bench

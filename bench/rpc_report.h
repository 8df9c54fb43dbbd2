// Formats an RpcBenchReport (bench/rpc_bench.h): one JSON object for
// scripts (schema in docs/BENCH.md, "kad bench rpc") and a table for
// people.
//
// Rates come two ways: per wall-clock second (what the client saw), and
// per second of the server thread's CPU time (what one core would
// sustain: on a busy machine the server gets only part of its core, and
// this figure does not depend on how large a part). The second is the
// headline: ratios and the gate's cost use it; "ratios_wall" has the
// wall-clock ratios.
//
// Each target and request kind is one result: its median over the rounds
// (the lower middle one for an even count: always a measured round) and
// every round's rate. Ratios pair the rounds: node / echo is taken within
// each round, where both ran under the same machine load, and the median
// of those is reported. The gate's cost per request is 1e9 / rate(gate) -
// 1e9 / rate(off), in nanoseconds of server CPU, from the medians.
//
// Pure functions of the report.
#ifndef KAD_BENCH_RPC_REPORT_H_
#define KAD_BENCH_RPC_REPORT_H_

#include <string>

#include "bench/rpc_bench.h"
#include "nlohmann/json.hpp"

namespace kad::bench {

nlohmann::ordered_json RpcReportJson(const RpcBenchReport& report);
std::string RpcReportTable(const RpcBenchReport& report);

}  // namespace kad::bench

#endif  // KAD_BENCH_RPC_REPORT_H_

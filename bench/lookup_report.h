// Formats a LookupBenchReport: one JSON object for scripts (its schema is
// documented in docs/BENCH.md), the same fields flattened into a CSV
// header and row, and a table for people.
//
// JSON keys keep a fixed order; CSV columns are the JSON's leaf fields in
// that order, nested names joined with '_' (e.g. latency_ms_p99).
//
// Pure functions of the report.
#ifndef KAD_BENCH_LOOKUP_REPORT_H_
#define KAD_BENCH_LOOKUP_REPORT_H_

#include <string>
#include <vector>

#include "bench/lookup_bench.h"
#include "nlohmann/json.hpp"

namespace kad::bench {

// The fields that measure wall-clock time and so may differ between two
// runs with the same seed (with --udp, every time and latency field does).
inline const std::vector<std::string> kWallClockFields = {
    "bootstrap_seconds", "lookup_seconds"};
// Fields measured through the allocator (mallinfo2). Not exactly
// reproducible: two processes with the same seed differed by under 0.1 %
// (10,000 nodes: 140,082 and 140,165 bytes), and a second run inside one
// process differs more, its heap reusing what the first freed.
inline const std::vector<std::string> kAllocatorFields = {"bytes_per_node"};

nlohmann::ordered_json ReportJson(const LookupBenchReport& report);
// Returns the header line and the value line, each ending in '\n'.
std::string ReportCsv(const LookupBenchReport& report);
std::string ReportTable(const LookupBenchReport& report);

}  // namespace kad::bench

#endif  // KAD_BENCH_LOOKUP_REPORT_H_

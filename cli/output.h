// Output of the kad program: results on stdout, as text for people or,
// with --json, as one JSON object per command for scripts; errors on
// stderr as one line "kad: error: ...".
//
// `get` without --json writes the bare value bytes and nothing else, so
// `kad get KEY > file` is binary-safe. With --json a value that is not
// valid UTF-8 is base64-encoded and marked "encoding": "base64".
#ifndef KAD_CLI_OUTPUT_H_
#define KAD_CLI_OUTPUT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "cli/exit_codes.h"
#include "dht/node.h"
#include "dht/node_id.h"
#include "net/endpoint.h"
#include "nlohmann/json.hpp"

namespace kad::cli {

// Writes "kad: error: MESSAGE" and a newline to stderr.
void PrintError(std::string_view message);

// Returns `status` with its message prefixed by "CONTEXT: ", same code.
absl::Status Annotate(const absl::Status& status, const std::string& context);

// Prints `status` as an error line and returns its exit code.
ExitCode ReportFailure(const absl::Status& status);

// Returns true if `bytes` is well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// Writes `object` on one line to stdout and flushes. Invalid UTF-8 in
// strings is replaced by U+FFFD rather than failing.
void PrintJson(const nlohmann::json& object);

// Writes `text` to stdout as is and flushes.
void PrintText(const std::string& text);

// How a put names what it stored, beside the key: for a signed record its
// address and owner, for an immutable one its hash. Empty for open records.
struct PutLabels {
  std::string kind;           // Printed before the key ("" for none).
  std::string address_label;  // "address" or "hash".
  std::string address;        // Hex.
  std::string owner;          // Hex public key; signed records only.
};

// Prints 'stored "KEY" on N of M nodes (seq S)' and, if labelled, a second
// line "address HEX" (or "hash HEX").
void PrintPut(const std::string& key, const dht::PutResult& result, bool json,
              const PutLabels& labels = {});
void PrintGet(const std::string& key, const dht::GetResult& result, bool json);
void PrintPing(const net::Endpoint& address, const dht::PingResult& result,
               bool json);
void PrintLookup(const dht::NodeId& target, const dht::LookupResult& result,
                 bool json);
// Without --json: one aligned "label  value" line per group of counters.
void PrintStats(const dht::StatsReport& report, bool json);

}  // namespace kad::cli

#endif  // KAD_CLI_OUTPUT_H_

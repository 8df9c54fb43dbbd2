// Parsing of the text arguments shared by kad's commands: durations,
// addresses and bootstrap lists. Every error is InvalidArgument with a
// message naming the bad input, so it maps to exit code 2.
#ifndef KAD_CLI_ARGUMENTS_H_
#define KAD_CLI_ARGUMENTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/endpoint.h"

namespace kad::cli {

// The environment variable one-shot commands read seeds from when no
// --bootstrap flag is given: comma-separated HOST:PORT entries.
inline constexpr char kBootstrapEnv[] = "KAD_BOOTSTRAP";

// Parses a positive duration in absl::ParseDuration form ("90s", "5m",
// "1h30m") or a bare number of seconds ("2.5"). `flag` names the flag in
// error messages.
absl::StatusOr<absl::Duration> ParseDurationArg(const std::string& flag,
                                                const std::string& text);

// Parses a rate: "N" or "N/s" (N > 0, e.g. "200/s"), or "off" for no
// limit (nullopt). `flag` names the flag in error messages.
absl::StatusOr<std::optional<double>> ParseRateArg(const std::string& flag,
                                                   const std::string& text);

// Resolves one HOST:PORT to its first endpoint (numeric forms need no
// lookup). A name that does not resolve is a bad address: InvalidArgument.
absl::StatusOr<net::Endpoint> ResolveAddress(const std::string& text);

// Resolves every HOST:PORT in `texts`, keeping all addresses of a name.
absl::StatusOr<std::vector<net::Endpoint>> ResolveAll(
    const std::vector<std::string>& texts);

// Returns the bootstrap entries for a one-shot command: `flags` if any were
// given, else the comma-separated entries of $KAD_BOOTSTRAP (blank entries
// skipped), else none.
std::vector<std::string> BootstrapTexts(const std::vector<std::string>& flags);

}  // namespace kad::cli

#endif  // KAD_CLI_ARGUMENTS_H_

// Logging set-up for the kad program: spdlog's default logger writes to
// stderr (stdout carries only command results), at a level chosen per
// command.
#ifndef KAD_CLI_LOGGING_H_
#define KAD_CLI_LOGGING_H_

#include <string>

namespace kad::cli {

// The names accepted by --log-level, in increasing severity.
inline constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn",
                                             "error"};

// Replaces spdlog's default logger with one writing to stderr.
void InitLogging();

// Sets the default logger's level from one of kLogLevels.
void SetLogLevel(const std::string& level);

}  // namespace kad::cli

#endif  // KAD_CLI_LOGGING_H_

// Reading a `put` value from a file or stdin, as raw bytes.
//
// Reads stop after kMaxInputBytes, so a huge input is refused without
// being held in memory; the record-size check then reports the limit.
#ifndef KAD_CLI_VALUE_INPUT_H_
#define KAD_CLI_VALUE_INPUT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace kad::cli {

inline constexpr size_t kMaxInputBytes = 1 << 20;

// Returns the bytes of `path`. InvalidArgument if it cannot be read or is
// larger than kMaxInputBytes.
absl::StatusOr<std::string> ReadValueFile(const std::string& path);

// Returns everything on stdin up to end of file. InvalidArgument if it
// cannot be read or is larger than kMaxInputBytes.
absl::StatusOr<std::string> ReadValueStdin();

}  // namespace kad::cli

#endif  // KAD_CLI_VALUE_INPUT_H_

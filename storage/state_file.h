// State files: small files a node keeps beside its record store (its id,
// its routing-table contacts), written atomically and checked on read.
//
// A state file is one header line "kad-state 1 <16 hex digits>\n" holding
// the XXH3-64 checksum of the contents, then the contents. A write goes to
// a temporary file in the same directory, is fsynced, renamed over the
// target and the directory fsynced, so a crash at any moment leaves either
// the old file or the new one, never a torn mix.
//
// Thread-compatible: no shared state.
#ifndef KAD_STORAGE_STATE_FILE_H_
#define KAD_STORAGE_STATE_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kad::storage {

// Replaces `path` with `contents`. Errors: Unavailable (or
// ResourceExhausted for a full disk) with a message naming the path.
absl::Status WriteStateFile(const std::string& path, std::string_view contents);

// Returns the contents of a file written by WriteStateFile. Errors:
// NotFound if it does not exist; DataLoss if its header or checksum is
// wrong; Unavailable if it cannot be read.
absl::StatusOr<std::string> ReadStateFile(const std::string& path);

}  // namespace kad::storage

#endif  // KAD_STORAGE_STATE_FILE_H_

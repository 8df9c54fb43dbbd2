// Exit codes of the kad program, and the mapping from absl::Status.
//
//   0  success
//   1  the key was not found
//   2  usage error: unknown flag, bad address or duration, missing or
//      too-large key or value
//   3  network failure: no bootstrap node reachable or given, nothing
//      stored, no answer before the deadline
//   4  the data dir cannot be used: in use by another node, not writable,
//      written by an incompatible version, corrupt state, disk full
//   5  conflict: a put refused because a newer version (or, with --cas,
//      another seq) is held; the message names the held seq
#ifndef KAD_CLI_EXIT_CODES_H_
#define KAD_CLI_EXIT_CODES_H_

#include "absl/status/status.h"

namespace kad::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitNotFound = 1,
  kExitUsage = 2,
  kExitNetwork = 3,
  kExitDataDir = 4,
  kExitConflict = 5,
};

// Returns the exit code for `status`: NotFound → 1; InvalidArgument and
// OutOfRange → 2; FailedPrecondition, PermissionDenied and DataLoss (the
// codes data-dir errors carry) → 4; Aborted (a put's conflict) → 5; anything else that is not OK (Unavailable,
// DeadlineExceeded, ResourceExhausted, …) → 3, since the command did not
// complete its work on the network.
ExitCode ExitCodeFor(const absl::Status& status);

}  // namespace kad::cli

#endif  // KAD_CLI_EXIT_CODES_H_

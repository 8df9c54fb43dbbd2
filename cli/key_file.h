// The key file: where `kad keygen` writes the ed25519 key that signs a
// user's records, and where `kad put` / `kad get` read it.
//
// Format: the 32-byte ed25519 seed as 64 lowercase hex digits and a
// newline; the key pair is derived from it (dht::KeyPairFromSeed). The
// file is created with mode 0600 (its directory, if made, 0700), and a key
// file that group or others may read is refused, as ssh refuses one.
// Default path: $KAD_KEY, else ~/.config/kad/key.
#ifndef KAD_CLI_KEY_FILE_H_
#define KAD_CLI_KEY_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "dht/record_auth.h"

namespace kad::cli {

// Returns `flag` if not empty, else $KAD_KEY, else ~/.config/kad/key.
// InvalidArgument if none can be formed (no $HOME).
absl::StatusOr<std::string> KeyPath(const std::string& flag);

// Writes a new key to `path`. InvalidArgument if the file exists and not
// `force`, or it cannot be written.
absl::StatusOr<dht::KeyPair> WriteNewKey(const std::string& path, bool force);

// Reads the key at `path`. NotFound if there is none; InvalidArgument if it
// is readable by group or others, or malformed.
absl::StatusOr<dht::KeyPair> ReadKey(const std::string& path);

// Reads the key at `path`, creating it if there is none and saying so once
// on stderr.
absl::StatusOr<dht::KeyPair> ReadOrCreateKey(const std::string& path);

}  // namespace kad::cli

#endif  // KAD_CLI_KEY_FILE_H_

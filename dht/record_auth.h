// Record auth: the one place that knows what proves a record, and which
// version may replace which. Every path that accepts a record from someone
// else goes through it: RequestHandler before storing (store, and so
// replication and read repair, which arrive as stores), RecordReader on
// every replica's answer, Publisher for its own copy.
//
//  - open: nothing to prove; anyone may replace it ("highest seq wins").
//  - signed: key == SignedAddress(public_key, name), and `signature` is a
//    valid ed25519 signature by `public_key` over SignedPayload(name, seq,
//    value). The expiry is not signed: see docs/PROTOCOL.md, "Records".
//  - immutable: key == ImmutableAddress(value) and seq == 0.
//
// Replacement (CheckReplace): a candidate that passed VerifyRecord may
// replace the held record if it is a newer version (storage/record.h's
// order), or the same version (a republish). A lower seq, or an equal seq
// with another value, is a conflict; so is a put whose expected seq (a
// compare-and-swap) is not the seq held. An open record never replaces a
// signed or immutable one.
//
// Pure functions; thread-safe. Key pairs hold secret bytes: callers keep
// them off logs.
#ifndef KAD_DHT_RECORD_AUTH_H_
#define KAD_DHT_RECORD_AUTH_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/record.h"
#include "storage/record_store.h"

namespace kad::dht {

// Domain-separation tags: no hash of one kind can be read as another's.
inline constexpr std::string_view kSignedAddressTag = "kad-signed-v1";
inline constexpr std::string_view kSignatureTag = "kad-signed-v1/sig";
inline constexpr std::string_view kImmutableAddressTag = "kad-immutable-v1";

// An ed25519 key pair (libsodium's 64-byte secret key form: seed, then the
// public key).
struct KeyPair {
  std::string public_key;  // storage::kPublicKeyBytes.
  std::string secret_key;  // 64 bytes.
};

// Returns a fresh key pair from libsodium's CSPRNG.
KeyPair GenerateKeyPair();
// Returns 32 bytes from libsodium's CSPRNG: a new key seed.
std::string RandomSeed();
// Overwrites `secret` with zeros in a way the compiler keeps.
void Wipe(std::string& secret);
// Returns the key pair derived from a 32-byte seed (what a key file
// keeps), or InvalidArgument if `seed` is not 32 bytes.
absl::StatusOr<KeyPair> KeyPairFromSeed(std::string_view seed);
// Returns the key pair whose libsodium secret key is `secret_key`, or
// InvalidArgument if it is not 64 bytes whose second half matches the
// public key its seed derives.
absl::StatusOr<KeyPair> KeyPairFromSecret(std::string_view secret_key);

// BLAKE2b-160(len(tag) tag, public_key, len(name) name): where the record
// (public_key, name) lives. Lengths are one byte each.
std::string SignedAddress(std::string_view public_key, std::string_view name);
// BLAKE2b-160(len(tag) tag, value): where an immutable record lives.
std::string ImmutableAddress(std::string_view value);
// The bytes a signed record's signature covers: len(tag) tag, len(name)
// name, seq as 8 big-endian bytes, then the value.
std::string SignedPayload(std::string_view name, uint64_t seq,
                          std::string_view value);

// Builds a signed record for `owner`, signed. Errors: InvalidArgument if
// the name or value is out of range.
absl::StatusOr<storage::Record> MakeSignedRecord(const KeyPair& owner,
                                                 std::string name,
                                                 std::string value,
                                                 uint64_t seq,
                                                 absl::Time expires);
// Builds the immutable record holding `value`.
absl::StatusOr<storage::Record> MakeImmutableRecord(std::string value,
                                                    absl::Time expires);

// Returns OK if `record` is well formed and proves itself (see above);
// else InvalidArgument (sizes) or PermissionDenied (wrong address, bad
// signature), with a reason.
absl::Status VerifyRecord(const storage::Record& record);

// Returns OK if `candidate` (already verified) may replace `held` (the live
// record at its key, if any) for a put expecting `expected_seq`; else
// Aborted, whose message names the held seq (ConflictSeq returns it).
absl::Status CheckReplace(const std::optional<storage::Record>& held,
                          const storage::Record& candidate,
                          std::optional<uint64_t> expected_seq);

// What StoreVerified did: the store's outcome, or why it refused; on a
// conflict, the seq it holds.
struct StoreVerdict {
  absl::StatusOr<storage::PutOutcome> outcome;
  std::optional<uint64_t> held_seq;  // Set on a conflict (Aborted).
};
// Verifies `record`, checks it against the live record at its key, and
// stores it. The one door through which records from elsewhere enter a
// store.
StoreVerdict StoreVerified(storage::RecordStore& store,
                           const storage::Record& record,
                           std::optional<uint64_t> expected_seq,
                           absl::Time now);

}  // namespace kad::dht

#endif  // KAD_DHT_RECORD_AUTH_H_

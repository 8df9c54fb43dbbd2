// The contacts file, DIR/contacts: the routing table's contacts as last
// saved, so that a node restarted on its data dir rejoins through them.
//
// A state file (storage/state_file.h: one header line carrying the
// contents' XXH3-64 checksum, then the contents, replaced atomically).
// The contents are one contact a line, in the order saved:
//
//   <id> SP <address> LF
//
//   <id>       the contact's node id, 40 lowercase hex digits;
//   <address>  net::Endpoint::ToString(): "192.0.2.1:4222" or
//              "[2001:db8::1]:4222".
//
// For example:
//
//   kad-state 1 <16 hex digits>
//   00112233445566778899aabbccddeeff00112233 192.0.2.1:4222
//   ffeeddccbbaa99887766554433221100ffeeddcc [2001:db8::1]:4222
//
// Reading keeps the addresses only: the ids are informational, since a
// contact that changed its id still answers a bootstrap ping. A line that
// does not split into two fields at its one space, or whose address does
// not parse, is skipped, so a hand-edited file loads what it can; an empty
// file (or none) means no contacts. contacts_file_test.cc pins the format.
//
// Thread-compatible: no shared state.
#ifndef KAD_RUNTIME_CONTACTS_FILE_H_
#define KAD_RUNTIME_CONTACTS_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dht/contact.h"
#include "net/endpoint.h"

namespace kad::runtime {

// The file's name inside a data dir.
inline constexpr char kContactsFileName[] = "contacts";

// Returns the contents (without the state-file header) for `contacts`.
std::string EncodeContacts(const std::vector<dht::Contact>& contacts);

// Returns the addresses in `contents`, skipping malformed lines.
std::vector<net::Endpoint> DecodeContacts(std::string_view contents);

// Replaces the contacts file at `path`. Errors: as WriteStateFile.
absl::Status SaveContactsFile(const std::string& path,
                              const std::vector<dht::Contact>& contacts);

// Returns the addresses saved at `path`; none if there is no file.
// Errors: DataLoss for a damaged file, Unavailable if it cannot be read.
absl::StatusOr<std::vector<net::Endpoint>> LoadContactsFile(
    const std::string& path);

}  // namespace kad::runtime

#endif  // KAD_RUNTIME_CONTACTS_FILE_H_

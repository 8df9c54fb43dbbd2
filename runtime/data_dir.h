// DataDir: what a node keeps across restarts in one directory, and the
// lock that keeps a second node out of it.
//
//   DIR/LOCK, DIR/records.mdb   the LMDB environment of storage::LmdbStore:
//                               the records the node holds (records()) and
//                               the records it put and republishes
//                               (publications()); storage/lmdb_format.h
//                               has the byte layout.
//   DIR/node_id                 a state file (storage/state_file.h) whose
//                               contents are the node's id as 40 hex
//                               digits and a newline.
//   DIR/contacts                the routing table's contacts, to rejoin
//                               through; runtime/contacts_file.h has the
//                               format.
//
// Opening takes the store's lock first, so a second node on the same
// directory is refused before it touches anything; the lock is held until
// the DataDir is destroyed.
//
// Errors: every error this class returns has code FailedPrecondition,
// PermissionDenied or DataLoss — whatever its cause (in use, not
// writable, disk full, an incompatible version, a damaged file) the dir
// cannot be used as it is — and a one-line message naming the dir or file.
//
// Not thread-safe; use from the loop thread.
#ifndef KAD_RUNTIME_DATA_DIR_H_
#define KAD_RUNTIME_DATA_DIR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dht/contact.h"
#include "dht/node_id.h"
#include "net/endpoint.h"
#include "storage/lmdb_store.h"
#include "storage/publication_store.h"

namespace kad::runtime {

class DataDir {
 public:
  // Creates `path` if needed (one level) and opens its store.
  static absl::StatusOr<std::unique_ptr<DataDir>> Open(
      const std::string& path, storage::LmdbStoreOptions options = {});

  // The stores, valid as long as this DataDir.
  storage::LmdbStore& records() { return *store_; }
  storage::PublicationStore& publications() { return store_->publications(); }

  // Returns the saved id, or nullopt on a first start.
  absl::StatusOr<std::optional<dht::NodeId>> LoadId() const;
  absl::Status SaveId(const dht::NodeId& id) const;

  // Returns the addresses of the contacts saved last time (none on a
  // first start), to rejoin through.
  absl::StatusOr<std::vector<net::Endpoint>> LoadContacts() const;
  absl::Status SaveContacts(const std::vector<dht::Contact>& contacts) const;

  const std::string& path() const { return path_; }

 private:
  DataDir(std::string path, std::unique_ptr<storage::LmdbStore> store)
      : path_(std::move(path)), store_(std::move(store)) {}

  std::string path_;
  std::unique_ptr<storage::LmdbStore> store_;
};

}  // namespace kad::runtime

#endif  // KAD_RUNTIME_DATA_DIR_H_

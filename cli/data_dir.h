// DataDir: what `kad node --data-dir DIR` keeps across restarts — the
// record store (LMDB, storage/lmdb_store.h), the node's id (DIR/node_id)
// and its routing-table contacts (DIR/contacts), the last two as
// checksummed state files (storage/state_file.h).
//
// Opening takes the store's lock first, so a second node on the same
// directory is refused before it touches anything.
//
// Not thread-safe; use from the loop thread.
#ifndef KAD_CLI_DATA_DIR_H_
#define KAD_CLI_DATA_DIR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dht/contact.h"
#include "dht/node_id.h"
#include "net/endpoint.h"
#include "storage/lmdb_store.h"

namespace kad::cli {

class DataDir {
 public:
  // Creates `path` if needed and opens its record store. Errors name the
  // directory: in use by another node, not writable, written by an
  // incompatible version, disk full.
  static absl::StatusOr<std::unique_ptr<DataDir>> Open(const std::string& path);

  // Hands the record store to the node's session; call once.
  std::unique_ptr<storage::RecordStore> TakeStore();

  // Returns the saved id, or nullopt on a first start.
  absl::StatusOr<std::optional<dht::NodeId>> LoadId() const;
  absl::Status SaveId(const dht::NodeId& id) const;

  // Returns the endpoints of the contacts saved last time (none on a first
  // start), to rejoin through.
  absl::StatusOr<std::vector<net::Endpoint>> LoadContacts() const;
  absl::Status SaveContacts(const std::vector<dht::Contact>& contacts) const;

  const std::string& path() const { return path_; }

 private:
  DataDir(std::string path, std::unique_ptr<storage::LmdbStore> store)
      : path_(std::move(path)), store_(std::move(store)) {}

  std::string path_;
  std::unique_ptr<storage::LmdbStore> store_;
};

}  // namespace kad::cli

#endif  // KAD_CLI_DATA_DIR_H_

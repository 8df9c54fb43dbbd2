// PublicationStore: the records this node put itself and keeps
// republishing, so that a restarted publisher goes on republishing them.
//
// This is a second seam beside RecordStore, not part of it: a held record
// (anyone's, served and replicated until it expires) and a publication
// (ours, re-put every republish interval with a fresh expiry) have
// different lifetimes. A record the node both holds and publishes sits in
// both stores.
//
// Implementations: MemoryPublicationStore (below, the default when a node
// is given none) and LmdbPublicationStore (storage/lmdb_publication_store.h,
// reached through LmdbStore::publications(), kept in the data dir).
//
// Not thread-safe; call from the loop thread.
#ifndef KAD_STORAGE_PUBLICATION_STORE_H_
#define KAD_STORAGE_PUBLICATION_STORE_H_

#include <string>

#include "absl/container/btree_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "storage/record.h"

namespace kad::storage {

struct Publication {
  Record record;       // As put; its `expires` is renewed on each republish.
  absl::Duration ttl;  // Each republish stores it with expires = now + ttl.
  friend bool operator==(const Publication&, const Publication&) = default;
};

class PublicationStore {
 public:
  virtual ~PublicationStore() = default;

  // Adds the publication for `publication.record.key`, replacing any
  // earlier one for that key. Errors: ResourceExhausted (disk full),
  // Internal for a storage failure.
  virtual absl::Status Put(const Publication& publication) = 0;

  // Calls `fn` for every publication, in ascending key order.
  virtual void ForEach(
      absl::FunctionRef<void(const Publication&)> fn) const = 0;

  virtual size_t size() const = 0;
};

// The in-memory default: publications last as long as the node.
class MemoryPublicationStore final : public PublicationStore {
 public:
  absl::Status Put(const Publication& publication) override {
    publications_[publication.record.key] = publication;
    return absl::OkStatus();
  }
  void ForEach(
      absl::FunctionRef<void(const Publication&)> fn) const override {
    for (const auto& [key, publication] : publications_) fn(publication);
  }
  size_t size() const override { return publications_.size(); }

 private:
  absl::btree_map<std::string, Publication> publications_;
};

}  // namespace kad::storage

#endif  // KAD_STORAGE_PUBLICATION_STORE_H_

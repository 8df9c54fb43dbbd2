// Publisher: put — stores a record on the k nodes closest to its key —
// and the republishing of the records this node put.
//
// A put looks the key up (LookupDriver) over `disjoint_paths` disjoint
// paths (dht/disjoint_lookup.h), then sends store, with the write token
// each node handed out during the lookup, to the k closest nodes found by
// all paths together, and keeps a copy in the local store if this node is
// among them. (The k closest of the union, not k per path: the paths end
// next to the key, so the union's k closest are the key's neighbourhood,
// which is where gets look; a captured path adds its colluders only where
// they are truly among the closest. Storing k per path would cost d times
// the stores for copies gets seldom reach.)
// It reports how many stored it; a node that refuses because it holds a
// newer version, the same seq with another value, or another seq than the
// put's compare-and-swap expected, is a conflict, not a store. This
// node's own copy goes through the same check (dht/record_auth.h). Unless the node is read-only, the record
// is also kept in the PublicationStore and put again every
// republish_interval with its original TTL, for as long as the node runs,
// across restarts if the store is persistent.
//
// Ownership: every collaborator is borrowed and must outlive the
// publisher. Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_PUBLISHER_H_
#define KAD_DHT_PUBLISHER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dht/callback.h"
#include "dht/kademlia_parameters.h"
#include "dht/lookup_driver.h"
#include "dht/operation_results.h"
#include "dht/requester.h"
#include "dht/timer_set.h"
#include "net/clock.h"
#include "storage/publication_store.h"
#include "storage/record_store.h"

namespace kad::dht {

struct PublisherOptions {
  // Kademlia's k: nodes asked to store a record.
  int bucket_size = kDefaultBucketSize;
  bool read_only = false;  // Stores nothing locally, republishes nothing.
  int disjoint_paths = 1;  // S/Kademlia's d (dht/node_options.h).
};

class Publisher {
 public:
  Publisher(PublisherOptions options, const NodeId& self,
            LookupDriver& lookups, Requester& requester,
            storage::RecordStore& store,
            storage::PublicationStore& publications, net::Clock& clock);
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Stores `record` on the k closest nodes, only over `expected_seq` if
  // given (see Node::Put for the errors).
  void Put(storage::Record record, std::optional<uint64_t> expected_seq,
           Callback<PutResult> done);

  // Puts every publication again, each with expiry now + its TTL.
  void Republish();

 private:
  using PutId = uint64_t;
  struct PendingPut {
    PutResult result;
    int outstanding = 0;
    Callback<PutResult> done;
  };

  void StoreOnClosest(storage::Record record,
                      std::optional<uint64_t> expected_seq, LookupRun& run,
                      Callback<PutResult> done);
  // Counts a node's refusal: a conflict (with the seq it holds) or another
  // reason, by code.
  static void CountRefusal(PutResult& result, const Error& error);
  // Returns " (refused: source_quota 3, ...)", or "" if none refused.
  static std::string RefusedText(const PutResult& result);
  void OnStoreAnswer(PutId id, const absl::StatusOr<Message>& answer);
  void Finish(PutId id);
  bool SelfAmongClosest(const NodeId& key_id,
                        const std::vector<Contact>& closest) const;

  PublisherOptions options_;
  const NodeId& self_;
  LookupDriver& lookups_;
  Requester& requester_;
  storage::RecordStore& store_;
  storage::PublicationStore& publications_;
  net::Clock& clock_;
  PutId next_id_ = 1;
  absl::flat_hash_map<PutId, PendingPut> puts_;
  TimerSet timers_;  // Last: cancelled before anything they refer to goes.
};

}  // namespace kad::dht

#endif  // KAD_DHT_PUBLISHER_H_

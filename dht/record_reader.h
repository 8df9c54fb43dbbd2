// RecordReader: get — finds a key's record among the replicas closest to
// it, returns the newest version, and repairs the replicas that lag.
//
// A get runs a find_value lookup (LookupDriver) over `disjoint_paths`
// disjoint paths (dht/disjoint_lookup.h) that ends as soon as `get_quorum`
// replicas have answered with a valid record (counting this node's own
// copy), on whichever paths, or when every path is done. The highest
// version among them wins (storage/record.h's version order): one path
// that reaches an honest replica is enough, whatever the others met. Read repair then stores it on
// the nodes that answered with an older version, and on those that
// answered with none while closer to the key than the farthest holder;
// this node's own copy is brought up to date too.
//
// Every replica's answer is verified (dht/record_auth.h) before it counts:
// a record that does not prove itself, is for another key, or (for a get of
// a signed or immutable address) is an open record, is ignored and counted
// in NodeStats::records_unverified; such a replica is repaired like one
// that held an older version. A replica can withhold a record, but never
// make the reader accept a forged, altered or older one.
//
// Ownership: every collaborator is borrowed and must outlive the reader.
// Not thread-safe; call from the loop thread.
#ifndef KAD_DHT_RECORD_READER_H_
#define KAD_DHT_RECORD_READER_H_

#include <optional>
#include <string>

#include "dht/callback.h"
#include "dht/lookup_driver.h"
#include "dht/node_stats.h"
#include "dht/operation_results.h"
#include "dht/requester.h"
#include "dht/timer_set.h"
#include "net/clock.h"
#include "storage/record_store.h"

namespace kad::dht {

struct RecordReaderOptions {
  // Replicas whose answer ends the lookup early (dht/node.h's get_quorum).
  int get_quorum = 3;
  bool read_only = false;  // Holds no records of its own.
  int disjoint_paths = 1;  // S/Kademlia's d (dht/node_options.h).
};

class RecordReader {
 public:
  RecordReader(RecordReaderOptions options, LookupDriver& lookups,
               Requester& requester, storage::RecordStore& store,
               net::Clock& clock, NodeStats& stats);
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // Which answers a get accepts.
  enum class Accept {
    kAny,     // An open get: any record that verifies (open ones included).
    kProven,  // A get by address: signed or immutable records only.
  };

  // Finds the record for `key` (see Node::Get for the errors).
  void Get(std::string key, Accept accept, Callback<GetResult> done);

 private:
  void Finish(const std::string& key, Accept accept, LookupRun& run,
              std::optional<storage::Record> local, Callback<GetResult> done);
  // Returns whether `record`, answered for `key`, may be believed.
  static bool Acceptable(const storage::Record& record, const std::string& key,
                         Accept accept);
  int ReadRepair(const storage::Record& best, const LookupRun& run);

  RecordReaderOptions options_;
  LookupDriver& lookups_;
  Requester& requester_;
  storage::RecordStore& store_;
  net::Clock& clock_;
  NodeStats& stats_;
  TimerSet timers_;  // Last: cancelled before anything they refer to goes.
};

}  // namespace kad::dht

#endif  // KAD_DHT_RECORD_READER_H_

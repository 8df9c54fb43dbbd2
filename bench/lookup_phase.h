// LookupPhase: runs a benchmark's puts and lookups on a BenchOverlay,
// a bounded number at once, each from a random live node, with optional
// churn, and records what each lookup cost and whether it found the truth.
//
// Operations start in index order; whenever one finishes the next starts
// (from inside its callback), so at most `in_flight` run at once. Results
// are stored by index, so on the simulator one seed reproduces them
// exactly whatever order lookups finish in.
//
// Success: a find_node succeeds when the closest node it returns is the
// live node truly closest to the target (the origin aside), as known when
// it started; a get succeeds when it returns the value stored beforehand.
//
// Churn (simulator only): over a phase of M lookups, round(churn * N)
// nodes (N = live nodes at the start) are replaced, spread evenly by
// lookup index: a random live node that originates no running lookup is
// crashed (silenced for good, left in the others' routing tables), and a
// new node joins through a random live node; it may originate lookups
// once its join has finished.
//
// Stop: once `*stop` is set no new operation starts; running ones finish.
//
// Ownership: the overlay and index are borrowed and must outlive the
// phase; the index must list every live node and is kept up to date
// under churn. Not thread-safe; call from the overlay's loop thread.
#ifndef KAD_BENCH_LOOKUP_PHASE_H_
#define KAD_BENCH_LOOKUP_PHASE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "bench/bench_overlay.h"
#include "bench/id_index.h"
#include "bench/lookup_sample.h"
#include "dht/node_id.h"

namespace kad::bench {

enum class LookupKind : uint8_t { kFindNode, kGet };

struct PlannedLookup {
  LookupKind kind = LookupKind::kFindNode;
  dht::NodeId target;  // find_node: a random id. get: the key's id.
  size_t key = 0;      // get: which stored key (see KeyName).
};

struct LookupRecord {
  LookupKind kind = LookupKind::kFindNode;
  bool ran = false;   // False if the phase was stopped before it started.
  size_t origin = 0;  // Overlay index of the node that looked up.
  size_t truth = 0;   // find_node: index of the truly closest node.
  LookupSample sample;
};

// Returns the name and the value of stored key `key`.
std::string KeyName(size_t key);
std::string KeyValue(size_t key);

struct LookupPhaseOptions {
  uint64_t seed = 1;  // Picks origins and churn victims.
  int in_flight = 64;  // Operations running at once.
  double churn = 0;    // Fraction of nodes replaced over RunLookups.
  // Called after each finished operation with the number finished so far.
  std::function<void(size_t finished)> progress;
  const std::atomic<bool>* stop = nullptr;  // Optional.
  // Set: only members for which it holds start puts and lookups (the
  // honest ones, in an adversarial run).
  std::function<bool(size_t index)> may_originate;
};

class LookupPhase {
 public:
  LookupPhase(BenchOverlay& overlay, IdIndex& live, LookupPhaseOptions options);
  LookupPhase(const LookupPhase&) = delete;
  LookupPhase& operator=(const LookupPhase&) = delete;

  // Puts keys 0..count-1 (KeyName/KeyValue), each from a random live node.
  // Returns how many puts failed.
  size_t StoreKeys(size_t count);
  // Runs `plan`, one record per planned lookup.
  std::vector<LookupRecord> RunLookups(const std::vector<PlannedLookup>& plan);

  // Replaces LookupPhaseOptions::progress.
  void set_progress(std::function<void(size_t finished)> progress) {
    options_.progress = std::move(progress);
  }
  size_t replaced() const { return replaced_; }
  bool stopped() const { return options_.stop && options_.stop->load(); }

 private:
  using Start = absl::FunctionRef<void(size_t i, size_t origin)>;
  // Runs operations 0..count-1 through `start`, which must call Finish(i)
  // exactly once (from the loop) when operation i is done.
  void RunWindow(size_t count, Start start);
  void StartMore();
  void Finish(size_t origin);
  size_t PickOrigin();
  void StartFindNode(size_t origin, const PlannedLookup& planned,
                     LookupRecord& record);
  void StartGet(size_t origin, const PlannedLookup& planned,
                LookupRecord& record);
  void ChurnBefore(size_t lookup, size_t lookups);
  void ReplaceOne();

  BenchOverlay& overlay_;
  IdIndex& live_ids_;
  LookupPhaseOptions options_;
  std::mt19937_64 gen_;
  std::vector<size_t> live_;      // Indices of live, joined nodes.
  std::vector<uint16_t> busy_;    // Running operations per origin index.
  size_t churn_base_ = 0;         // Live nodes when RunLookups began.
  size_t churn_steps_ = 0;       // Replacements due so far.
  size_t replaced_ = 0;          // Replacements done.
  int joins_running_ = 0;         // Replacement nodes still joining.
  // The window in progress.
  size_t count_ = 0;
  size_t next_ = 0;
  size_t finished_ = 0;
  int running_ = 0;
  Start* start_ = nullptr;
  bool churning_ = false;
};

}  // namespace kad::bench

#endif  // KAD_BENCH_LOOKUP_PHASE_H_

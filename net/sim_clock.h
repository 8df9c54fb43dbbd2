// SimClock: a net::Clock in virtual time, driving a simulation.
//
// Nothing sleeps: time jumps to the next pending event when the owner asks
// it to run (RunNext, RunUntil, RunFor, RunUntilIdle, RunWhile). Events run
// in (due time, sequence number) order, the sequence number counting every
// Schedule/ScheduleEvent call, so events due at the same time run in the
// order they were scheduled and one seed reproduces a run exactly.
//
// Two kinds of event share the queue:
//  - timers (net::Clock::Schedule), whose callbacks live in a slab of
//    slots reused through a free list. Cancel destroys the callback at once
//    and leaves a tombstone in the queue (its slot's generation has moved
//    on), dropped when the queue next scans its bucket, or by a compaction
//    once tombstones outnumber live events;
//  - sink events (ScheduleEvent): a 32-bit token handed to an EventSink,
//    with no callback object at all. SimNetwork delivers datagrams this way.
//
// The queue is a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, "Faster
// algorithms for the shortest path problem", 1990), which works because
// simulated time never goes back: no event is ever scheduled before one
// already run. Bucket b holds the events whose due time first differs from
// a base time (at most the earliest due time) in bit b-1; bucket 0, those
// due at the base itself. Scheduling appends to a bucket; when bucket 0 is
// used up, the first non-empty bucket is scanned for its earliest event,
// which becomes the base, and its events are dealt to the buckets below
// it. An event moves down at most once per bit of its delay, always by
// sequential appends, where a binary or 4-ary heap sifts through cache
// lines at random (a 4-ary heap's sifting was 9 % of a simulated join).
// Order: every bucket keeps its events in scheduling order (appends and
// in-order dealing preserve it), and bucket 0 runs first in, first out,
// so events run exactly in (due time, scheduling order) — no sequence
// number is stored.
//
// A queue entry is 16 bytes and a timer slot 40; an emptied bucket keeps
// its storage only while the buckets' storage stays within about twice
// the queue, so millions of pending events stay cheap.
//
// Contract beyond net::Clock: the Run* methods must not be called from
// inside an event. Not thread-safe; call from one thread.
#ifndef KAD_NET_SIM_CLOCK_H_
#define KAD_NET_SIM_CLOCK_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "net/clock.h"

namespace kad::net {

class SimClock : public Clock {
 public:
  // Receives the tokens of events scheduled with ScheduleEvent.
  class EventSink {
   public:
    virtual void OnEvent(uint32_t token) = 0;

   protected:
    ~EventSink() = default;
  };
  using SinkId = uint32_t;

  explicit SimClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));
  SimClock(const SimClock&) = delete;
  SimClock& operator=(const SimClock&) = delete;

  absl::Time Now() const override;
  TimerId Schedule(absl::Duration delay,
                   absl::AnyInvocable<void()> fn) override;
  void Cancel(TimerId id) override;

  // Registers `sink` for ScheduleEvent. It must stay alive until
  // RemoveSink(); events still queued for a removed sink are discarded.
  SinkId AddSink(EventSink* sink);
  void RemoveSink(SinkId sink);
  // Calls sink->OnEvent(token) after `delay` (negative counts as zero).
  void ScheduleEvent(absl::Duration delay, SinkId sink, uint32_t token);

  // Runs the earliest pending event, advancing time to it. Returns false if
  // nothing is pending.
  bool RunNext();
  // Runs every event due at or before `until`, then sets the time to
  // `until` if it is later. Returns the number of events run.
  size_t RunUntil(absl::Time until);
  // Runs every event due within `duration` from now, then moves time on by
  // `duration`: RunUntil(Now() + duration).
  size_t RunFor(absl::Duration duration) { return RunUntil(Now() + duration); }
  // Runs events until none is pending or the next one is due more than
  // `limit` after now; time stays at the last event run. Returns the
  // number of events run.
  size_t RunUntilIdle(absl::Duration limit = absl::Hours(1));
  // Runs events while `keep_running()` holds (checked before each one).
  // Returns true once it no longer holds; false if the next event is due
  // after `deadline` or none is left, with time then set to `deadline`.
  bool RunWhile(absl::FunctionRef<bool()> keep_running, absl::Time deadline);

  // For SimLanes (net/sim_lanes.h), which runs several clocks as one
  // simulation. Neither runs an event nor may be called from inside one.
  //
  // The due time of the earliest pending event, or InfiniteFuture() if
  // none. May reorganise the queue (dropping tombstones) but keeps every
  // Schedule call valid.
  absl::Time NextDue();
  // Moves time on to `t` without running anything: no event may be due
  // before `t` (asserted). Earlier times are ignored.
  void AdvanceTo(absl::Time t);

  // Events waiting to run (cancelled timers excluded).
  size_t pending() const { return size_ - tombstones_; }
  // Queue entries, cancelled timers' tombstones included (memory use).
  size_t queue_size() const { return size_; }
  uint64_t events_run() const { return events_run_; }
  absl::Time start() const { return start_; }

 private:
  // Event::tag of a timer: this bit, and the low bits of its slot's
  // generation (a sink event's tag is its SinkId, below this bit).
  static constexpr uint32_t kTimerTag = 0x8000'0000u;
  static constexpr size_t kBuckets = 64;  // Bit widths of non-negative int64.

  struct Event {
    int64_t due;     // Nanoseconds since start_.
    uint32_t token;  // Timer slot, or the sink's token.
    uint32_t tag;    // kTimerTag | generation, or the SinkId.
  };
  static_assert(sizeof(Event) == 16, "queue entries stay compact");
  struct TimerSlot {
    absl::AnyInvocable<void()> fn;  // Empty while the slot is free.
    uint32_t generation = 0;        // Bumped on free: stale ids miss.
    uint32_t next_free = 0;
  };

  int64_t DueAfter(absl::Duration delay) const;
  size_t BucketOf(int64_t due) const;
  void Push(int64_t due, uint32_t token, uint32_t tag);
  bool IsStale(const Event& event) const;
  // Makes the front of bucket 0 the earliest live event if it is due at or
  // before `end` and returns true; otherwise returns false. Drops the
  // tombstones it meets. Callers run the event at once when it returns
  // true (the base has moved to its due time).
  bool Advance(int64_t end);
  // Drops the tombstones of bucket `k` in place; returns the earliest due
  // time left in it (INT64_MAX if none).
  int64_t DropStaleAndFindMin(size_t k);
  // Moves the base to `base` (at most every due time in bucket `k`, the
  // first non-empty one) and deals bucket k's events to the buckets below.
  void Rebase(size_t k, int64_t base);
  // Frees the storage of `bucket` (just emptied) if the buckets hold much
  // more storage than the queue needs.
  void ReleaseIfOversized(std::vector<Event>& bucket);
  // Takes the front event of bucket 0 (Advance() returned true).
  Event PopFront();
  // Rebuilds the queue without tombstones once they dominate it.
  void MaybeCompact();
  uint32_t AllocateSlot();
  void FreeSlot(uint32_t slot);
  void Dispatch(const Event& event);
  void RunFront();

  absl::Time start_;
  int64_t now_ = 0;   // Nanoseconds since start_.
  int64_t base_ = 0;  // The radix heap's base: <= now_ between events.
  // At most the due time of every live event: lets Advance() answer "not
  // yet" without a scan when the caller steps time in small increments.
  int64_t due_bound_ = 0;
  // Whether due_bound_ is the earliest live event's due time itself (it
  // was found by a scan and nothing has been run or cancelled since).
  bool due_bound_exact_ = false;
  uint64_t events_run_ = 0;
  size_t size_ = 0;  // Queue entries, tombstones included.
  size_t tombstones_ = 0;
  bool running_ = false;
  std::array<std::vector<Event>, kBuckets> buckets_;
  size_t front_ = 0;            // Next event of bucket 0.
  std::vector<Event> scratch_;  // Storage reused while dealing a bucket.
  std::vector<TimerSlot> slots_;
  uint32_t free_head_ = UINT32_MAX;  // Free list through next_free.
  std::vector<EventSink*> sinks_;    // Index 0 unused (timers).
};

}  // namespace kad::net

#endif  // KAD_NET_SIM_CLOCK_H_

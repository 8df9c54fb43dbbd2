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
//    and leaves a tombstone in the queue, skipped when it surfaces (the
//    queue is compacted when tombstones outnumber live events);
//  - sink events (ScheduleEvent): a 32-bit token handed to an EventSink,
//    with no callback object at all. SimNetwork delivers datagrams this way.
// A queue entry is 24 bytes and a timer slot 48, so millions of pending
// events stay cheap.
//
// Contract beyond net::Clock: the Run* methods must not be called from
// inside an event. Not thread-safe; call from one thread.
#ifndef KAD_NET_SIM_CLOCK_H_
#define KAD_NET_SIM_CLOCK_H_

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

  // Events waiting to run (cancelled timers excluded).
  size_t pending() const { return queue_.size() - tombstones_; }
  // Queue entries, cancelled timers' tombstones included (memory use).
  size_t queue_size() const { return queue_.size(); }
  uint64_t events_run() const { return events_run_; }
  absl::Time start() const { return start_; }

 private:
  static constexpr SinkId kTimerSink = 0;  // Sink 0 is the timer slab.

  struct Event {
    int64_t due;   // Nanoseconds since start_.
    uint64_t seq;  // Tie-break: scheduling order.
    SinkId sink;
    uint32_t token;  // Timer slot, or the sink's token.
  };
  static_assert(sizeof(Event) == 24, "queue entries stay compact");
  struct TimerSlot {
    absl::AnyInvocable<void()> fn;  // Empty while the slot is free.
    uint64_t seq = 0;               // Seq of the queued event; 0 if none.
    uint32_t generation = 1;        // Bumped on free: stale ids miss.
    uint32_t next_free = 0;
  };

  static bool Earlier(const Event& a, const Event& b) {
    return a.due != b.due ? a.due < b.due : a.seq < b.seq;
  }
  int64_t DueAfter(absl::Duration delay) const;
  void Push(int64_t due, SinkId sink, uint32_t token);
  Event Pop();
  bool IsStale(const Event& event) const;
  // Drops tombstones from the top; returns whether a live event remains.
  bool SkipStale();
  // Rebuilds the queue without tombstones once they dominate it.
  void MaybeCompact();
  uint32_t AllocateSlot();
  void FreeSlot(uint32_t slot);
  void Dispatch(const Event& event);

  absl::Time start_;
  int64_t now_ = 0;  // Nanoseconds since start_.
  uint64_t next_seq_ = 1;
  uint64_t events_run_ = 0;
  size_t tombstones_ = 0;
  bool running_ = false;
  std::vector<Event> queue_;  // 4-ary min-heap under Earlier.
  std::vector<TimerSlot> slots_;
  uint32_t free_head_ = UINT32_MAX;  // Free list through next_free.
  std::vector<EventSink*> sinks_;    // Index 0 unused (timers).
};

}  // namespace kad::net

#endif  // KAD_NET_SIM_CLOCK_H_

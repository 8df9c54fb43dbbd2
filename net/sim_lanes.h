// SimLanes: several SimClocks run as one simulation, so that a large
// simulation can use more than one core.
//
// Each lane is a SimClock. A simulation's hosts are split between the
// lanes (SimNetwork puts host h in lane h % lanes): a host's timers and
// the datagrams it receives are its lane's events. Two ways to run them:
//
//  - Merged (RunWhile): the calling thread runs every lane's events in
//    (due time, lane, scheduling) order and moves every lane's time along
//    with it, so an event may touch any host — a benchmark's callback that
//    starts a lookup on another node, say. With one lane this is exactly
//    SimClock::RunWhile.
//  - In windows (RunInWindows): a conservative parallel simulation (Chandy
//    and Misra; Lubachevsky's bounded lag). No datagram arrives sooner than
//    `lookahead` after it was sent (the link model's least one-way delay),
//    so from the earliest pending event T of all lanes, nothing one lane
//    does before T + lookahead can reach another lane before then: each
//    lane runs the window [T, T + lookahead) on its own, the lanes spread
//    over `threads` threads, and at the window's end, with every lane
//    stopped, the listeners (SimNetwork) hand over what crossed between
//    lanes. Events must then touch only their own lane's hosts; anything
//    else they share (a count of finished joins) must be thread-safe.
//
// Determinism: windows, each lane's order and the hand-over order depend
// on the lanes and the events only, never on the threads, so a run gives
// the same result on one thread as on several. It differs from a one-lane
// run where two events in different lanes are due in the same nanosecond
// (the lane order breaks the tie), in the loss draws (net/sim_network.h),
// and in where a windowed run stops (at the end of a window).
//
// Lanes agree on the time whenever no run is under way. Not thread-safe
// itself: call from one thread, never from inside an event.
#ifndef KAD_NET_SIM_LANES_H_
#define KAD_NET_SIM_LANES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "net/sim_clock.h"

namespace kad::net {

class SimLanes {
 public:
  // Called at the end of every window of RunInWindows, on the calling
  // thread, with every lane stopped at the window's end.
  class WindowListener {
   public:
    virtual void AtWindowEnd() = 0;

   protected:
    ~WindowListener() = default;
  };

  static constexpr size_t kMaxLanes = 64;

  // `lanes` in [1, kMaxLanes] (asserted), all starting at `start`.
  explicit SimLanes(size_t lanes,
                    absl::Time start = absl::FromUnixSeconds(1'700'000'000));
  SimLanes(const SimLanes&) = delete;
  SimLanes& operator=(const SimLanes&) = delete;

  size_t size() const { return clocks_.size(); }
  SimClock& lane(size_t i) { return *clocks_[i]; }
  // Lane 0's time: every lane's, between runs.
  absl::Time Now() const { return clocks_[0]->Now(); }
  uint64_t events_run() const;
  // True while RunInWindows runs (read from inside events).
  bool windowed() const { return windowed_; }

  // `listener` must stay registered no longer than it lives.
  void AddListener(WindowListener* listener);
  void RemoveListener(WindowListener* listener);

  // Merged: runs events while `keep_running()` holds (checked before each
  // one). Returns true once it no longer holds; false if the next event is
  // due after `deadline` or none is left, every lane's time then set to
  // `deadline`.
  bool RunWhile(absl::FunctionRef<bool()> keep_running, absl::Time deadline);
  // In windows of `lookahead` (at least a nanosecond) on `threads` threads
  // (at most one per lane), while `keep_running()` holds: it is checked
  // before each window, on the calling thread. Returns as RunWhile does.
  // With one lane, or a lookahead under a nanosecond, runs merged.
  bool RunInWindows(absl::FunctionRef<bool()> keep_running, absl::Time deadline,
                    absl::Duration lookahead, size_t threads);

 private:
  class Crew;  // The threads of one RunInWindows call.

  // Runs the lanes of `thread` (every lane i with i % threads == thread)
  // up to and including `end`.
  void RunLanes(size_t thread, size_t threads, absl::Time end);
  // The lane with the earliest pending event (the lowest such lane on a
  // tie; lane 0 if none), its due time in `due`.
  size_t EarliestLane(absl::Time& due);
  void AdvanceAllTo(absl::Time t);

  std::vector<std::unique_ptr<SimClock>> clocks_;
  std::vector<WindowListener*> listeners_;
  bool windowed_ = false;
};

}  // namespace kad::net

#endif  // KAD_NET_SIM_LANES_H_

#include "net/sim_lanes.h"

#include <algorithm>
#include <cassert>
#include <thread>

namespace kad::net {
namespace {

// Busy-waits this many rounds before yielding the core: a window takes a
// few milliseconds, the wait between two a few microseconds.
constexpr int kSpinsBeforeYield = 4096;

void Relax(int& spins) {
  if (++spins < kSpinsBeforeYield) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

}  // namespace

// The helper threads of one RunInWindows call. Thread 0 is the caller's;
// helper t runs its lanes whenever the window count moves on, then
// reports. Everything a lane did in a window happens-before the caller's
// hand-over through `finished_` (release/acquire), and the hand-over
// happens-before the next window through `window_`.
class SimLanes::Crew {
 public:
  Crew(SimLanes& lanes, size_t threads) : lanes_(lanes), threads_(threads) {
    for (size_t t = 1; t < threads; ++t) {
      helpers_.emplace_back([this, t] { Serve(t); });
    }
  }
  ~Crew() {
    stopping_ = true;
    window_.fetch_add(1, std::memory_order_release);
    for (std::thread& helper : helpers_) helper.join();
  }

  // Runs every lane up to and including `end`, on all the threads.
  void RunWindow(absl::Time end) {
    end_ = end;
    finished_.store(0, std::memory_order_relaxed);
    window_.fetch_add(1, std::memory_order_release);
    lanes_.RunLanes(0, threads_, end);
    int spins = 0;
    while (finished_.load(std::memory_order_acquire) != helpers_.size()) {
      Relax(spins);
    }
  }

 private:
  void Serve(size_t thread) {
    uint64_t seen = 0;
    for (;;) {
      int spins = 0;
      uint64_t window;
      while ((window = window_.load(std::memory_order_acquire)) == seen) {
        Relax(spins);
      }
      seen = window;
      if (stopping_) return;
      lanes_.RunLanes(thread, threads_, end_);
      finished_.fetch_add(1, std::memory_order_release);
    }
  }

  SimLanes& lanes_;
  const size_t threads_;
  // Written by the caller before `window_` moves on, read after.
  absl::Time end_;
  bool stopping_ = false;
  std::atomic<uint64_t> window_{0};
  std::atomic<size_t> finished_{0};
  std::vector<std::thread> helpers_;  // Last: they use the fields above.
};

SimLanes::SimLanes(size_t lanes, absl::Time start) {
  assert(lanes >= 1 && lanes <= kMaxLanes);
  for (size_t i = 0; i < lanes; ++i) {
    clocks_.push_back(std::make_unique<SimClock>(start));
  }
}

uint64_t SimLanes::events_run() const {
  uint64_t events = 0;
  for (const std::unique_ptr<SimClock>& clock : clocks_) {
    events += clock->events_run();
  }
  return events;
}

void SimLanes::AddListener(WindowListener* listener) {
  listeners_.push_back(listener);
}

void SimLanes::RemoveListener(WindowListener* listener) {
  std::erase(listeners_, listener);
}

size_t SimLanes::EarliestLane(absl::Time& due) {
  size_t earliest = 0;
  due = absl::InfiniteFuture();
  for (size_t i = 0; i < clocks_.size(); ++i) {
    const absl::Time lane_due = clocks_[i]->NextDue();
    if (lane_due < due) {
      due = lane_due;
      earliest = i;
    }
  }
  return earliest;
}

void SimLanes::AdvanceAllTo(absl::Time t) {
  for (const std::unique_ptr<SimClock>& clock : clocks_) clock->AdvanceTo(t);
}

bool SimLanes::RunWhile(absl::FunctionRef<bool()> keep_running,
                        absl::Time deadline) {
  if (clocks_.size() == 1) return clocks_[0]->RunWhile(keep_running, deadline);
  while (keep_running()) {
    absl::Time due;
    const size_t next = EarliestLane(due);
    if (due > deadline) {
      AdvanceAllTo(deadline);
      return false;
    }
    // Every lane at the event's time, so that it may act on any host.
    AdvanceAllTo(due);
    clocks_[next]->RunNext();
  }
  return true;
}

void SimLanes::RunLanes(size_t thread, size_t threads, absl::Time end) {
  for (size_t i = thread; i < clocks_.size(); i += threads) {
    clocks_[i]->RunUntil(end);
  }
}

bool SimLanes::RunInWindows(absl::FunctionRef<bool()> keep_running,
                            absl::Time deadline, absl::Duration lookahead,
                            size_t threads) {
  lookahead = absl::Trunc(lookahead, absl::Nanoseconds(1));
  if (clocks_.size() == 1 || lookahead < absl::Nanoseconds(1)) {
    return RunWhile(keep_running, deadline);
  }
  threads = std::clamp<size_t>(threads, 1, clocks_.size());
  windowed_ = true;
  bool result = true;
  {
    Crew crew(*this, threads);
    while (keep_running()) {
      absl::Time start;
      EarliestLane(start);
      if (start > deadline) {
        AdvanceAllTo(deadline);
        result = false;
        break;
      }
      // [start, start + lookahead): RunUntil's end is inclusive.
      crew.RunWindow(
          std::min(start + lookahead - absl::Nanoseconds(1), deadline));
      for (WindowListener* listener : listeners_) listener->AtWindowEnd();
    }
  }
  windowed_ = false;
  return result;
}

}  // namespace kad::net

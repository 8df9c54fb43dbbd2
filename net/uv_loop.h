// UvLoop: owns one libuv event loop and runs it for programs and tests.
//
// Run() serves a long-lived node until Stop() or, when asked, SIGINT or
// SIGTERM; RunUntil() serves tests and one-shot commands, running the loop
// until a predicate holds or a deadline passes.
//
// Lifetime: everything created on raw() (UvClock, UdpTransport, handles)
// must be destroyed before the UvLoop. The destructor closes any handle
// still open and runs the loop until every close callback has run, so
// memory freed in close callbacks is released (no leaks under ASan).
//
// Not thread-safe; call every method from the loop thread (Stop() included,
// e.g. from a timer or a receive handler).
#ifndef KAD_NET_UV_LOOP_H_
#define KAD_NET_UV_LOOP_H_

#include <uv.h>

#include <cstdint>
#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kad::net {

enum class StopOnSignals { kNo, kYes };

// Returns the libuv timer timeout, in milliseconds, for `delay`: rounded up,
// plus one tick because loop time has millisecond resolution and is
// truncated, so a timer never fires before `delay` has passed. Negative
// delays count as zero.
uint64_t UvTimeoutMs(absl::Duration delay);

class UvLoop {
 public:
  // Creates and initializes a loop. Returns Unavailable if libuv cannot.
  static absl::StatusOr<std::unique_ptr<UvLoop>> Create();

  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;
  ~UvLoop();

  uv_loop_t* raw() { return &loop_; }

  // Runs the loop until Stop() is called or nothing is left to run. With
  // StopOnSignals::kYes, SIGINT and SIGTERM also stop it (see
  // stop_signal()); the signal handlers are installed for this call only.
  void Run(StopOnSignals signals = StopOnSignals::kNo);

  // Makes the current Run() or RunUntil() return once the running callback
  // returns. Does nothing when the loop is not running.
  void Stop();

  // Runs the loop until `done()` holds (checked before the first and after
  // every loop iteration), Stop() is called, or `timeout` passes. Returns
  // whether `done()` held.
  bool RunUntil(absl::FunctionRef<bool()> done, absl::Duration timeout);

  // Returns the signal number (SIGINT, SIGTERM) that ended the last Run(),
  // or 0 if it ended otherwise.
  int stop_signal() const { return stop_signal_; }

 private:
  UvLoop() = default;

  static void OnSignal(uv_signal_t* handle, int signum);

  uv_loop_t loop_{};
  bool initialized_ = false;
  bool running_ = false;
  bool stop_requested_ = false;
  int stop_signal_ = 0;
};

}  // namespace kad::net

#endif  // KAD_NET_UV_LOOP_H_

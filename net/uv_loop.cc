#include "net/uv_loop.h"

#include <cassert>
#include <csignal>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace kad::net {
namespace {

// Closes a heap-allocated handle and frees it in its close callback, which
// runs on a later loop iteration (at the latest in ~UvLoop).
template <typename Handle>
void CloseAndDelete(Handle* handle) {
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
}

}  // namespace

uint64_t UvTimeoutMs(absl::Duration delay) {
  if (delay <= absl::ZeroDuration()) return 0;
  if (delay == absl::InfiniteDuration()) return UINT64_MAX / 2;
  return static_cast<uint64_t>(absl::ToInt64Milliseconds(
             absl::Ceil(delay, absl::Milliseconds(1)))) +
         1;
}

absl::StatusOr<std::unique_ptr<UvLoop>> UvLoop::Create() {
  auto loop = std::unique_ptr<UvLoop>(new UvLoop());
  if (int rc = uv_loop_init(&loop->loop_); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create event loop: ", uv_strerror(rc)));
  }
  loop->initialized_ = true;
  return loop;
}

UvLoop::~UvLoop() {
  if (!initialized_) return;
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      },
      nullptr);
  // Runs close callbacks and cancelled send requests to completion.
  uv_run(&loop_, UV_RUN_DEFAULT);
  [[maybe_unused]] int rc = uv_loop_close(&loop_);
  assert(rc == 0);
}

void UvLoop::Run(StopOnSignals signals) {
  assert(!running_);
  running_ = true;
  stop_requested_ = false;
  stop_signal_ = 0;
  uv_signal_t* watchers[2] = {nullptr, nullptr};
  if (signals == StopOnSignals::kYes) {
    const int signums[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; ++i) {
      watchers[i] = new uv_signal_t;
      uv_signal_init(&loop_, watchers[i]);
      watchers[i]->data = this;
      if (int rc = uv_signal_start(watchers[i], &UvLoop::OnSignal, signums[i]);
          rc != 0) {
        spdlog::warn("cannot watch signal {}: {}", signums[i], uv_strerror(rc));
      }
    }
  }
  while (!stop_requested_ && uv_run(&loop_, UV_RUN_DEFAULT) != 0) {
  }
  running_ = false;
  for (uv_signal_t* watcher : watchers) {
    if (watcher == nullptr) continue;
    uv_signal_stop(watcher);
    CloseAndDelete(watcher);
  }
}

void UvLoop::OnSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<UvLoop*>(handle->data);
  self->stop_signal_ = signum;
  self->Stop();
}

void UvLoop::Stop() {
  if (!running_) return;
  stop_requested_ = true;
  uv_stop(&loop_);
}

bool UvLoop::RunUntil(absl::FunctionRef<bool()> done, absl::Duration timeout) {
  assert(!running_);
  if (done()) return true;
  bool timed_out = false;
  auto* deadline = new uv_timer_t;
  uv_timer_init(&loop_, deadline);
  deadline->data = &timed_out;
  uv_update_time(&loop_);
  uv_timer_start(
      deadline, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
      UvTimeoutMs(timeout), 0);
  running_ = true;
  stop_requested_ = false;
  bool result = false;
  while (true) {
    uv_run(&loop_, UV_RUN_ONCE);
    if (done()) {
      result = true;
      break;
    }
    if (timed_out || stop_requested_) break;
  }
  running_ = false;
  uv_timer_stop(deadline);
  CloseAndDelete(deadline);
  return result;
}

}  // namespace kad::net

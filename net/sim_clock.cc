#include "net/sim_clock.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

namespace kad::net {
namespace {

// Compaction is not worth it for small queues.
constexpr size_t kMinCompactSize = 4096;

constexpr uint32_t kNoSlot = std::numeric_limits<uint32_t>::max();

TimerId MakeTimerId(uint32_t slot, uint32_t generation) {
  return (uint64_t{generation} << 32) | (uint64_t{slot} + 1);
}

// The event queue is a 4-ary min-heap: half the depth of a binary heap,
// and a node's four children (24-byte events) lie in one or two cache
// lines. Ordering events was 11 % of a simulated join with std::push_heap
// and std::pop_heap. `earlier(a, b)`: a runs first. Events are totally
// ordered (by due time, then sequence number), so the order they run in
// does not depend on the heap's shape.
constexpr size_t kArity = 4;

template <typename T, typename Earlier>
void SiftUp(std::vector<T>& heap, size_t i, Earlier earlier) {
  const T item = heap[i];
  while (i > 0) {
    const size_t parent = (i - 1) / kArity;
    if (!earlier(item, heap[parent])) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = item;
}

template <typename T, typename Earlier>
void SiftDown(std::vector<T>& heap, size_t i, Earlier earlier) {
  const size_t n = heap.size();
  const T item = heap[i];
  while (true) {
    const size_t first = i * kArity + 1;
    if (first >= n) break;
    size_t best = first;
    for (size_t c = first + 1; c < std::min(first + kArity, n); ++c) {
      if (earlier(heap[c], heap[best])) best = c;
    }
    if (!earlier(heap[best], item)) break;
    heap[i] = heap[best];
    i = best;
  }
  heap[i] = item;
}

template <typename T, typename Earlier>
void MakeHeap(std::vector<T>& heap, Earlier earlier) {
  for (size_t i = heap.size() / kArity + 1; i-- > 0;) {
    if (i < heap.size()) SiftDown(heap, i, earlier);
  }
}

}  // namespace

SimClock::SimClock(absl::Time start) : start_(start), sinks_(1, nullptr) {}

absl::Time SimClock::Now() const { return start_ + absl::Nanoseconds(now_); }

int64_t SimClock::DueAfter(absl::Duration delay) const {
  const int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t ns = std::max<int64_t>(absl::ToInt64Nanoseconds(delay), 0);
  return ns > max - now_ ? max : now_ + ns;
}

TimerId SimClock::Schedule(absl::Duration delay,
                           absl::AnyInvocable<void()> fn) {
  assert(fn != nullptr);
  const uint32_t slot = AllocateSlot();
  slots_[slot].fn = std::move(fn);
  slots_[slot].seq = next_seq_;
  Push(DueAfter(delay), kTimerSink, slot);
  return MakeTimerId(slot, slots_[slot].generation);
}

void SimClock::Cancel(TimerId id) {
  const uint64_t slot = (id & 0xffffffffu) - 1;
  const uint32_t generation = static_cast<uint32_t>(id >> 32);
  if (slot >= slots_.size()) return;
  TimerSlot& timer = slots_[slot];
  if (timer.generation != generation || timer.seq == 0) return;
  ++tombstones_;
  FreeSlot(static_cast<uint32_t>(slot));
  MaybeCompact();
}

SimClock::SinkId SimClock::AddSink(EventSink* sink) {
  sinks_.push_back(sink);
  return static_cast<SinkId>(sinks_.size() - 1);
}

void SimClock::RemoveSink(SinkId sink) {
  assert(sink != kTimerSink && sink < sinks_.size());
  sinks_[sink] = nullptr;
}

void SimClock::ScheduleEvent(absl::Duration delay, SinkId sink,
                             uint32_t token) {
  assert(sink != kTimerSink && sink < sinks_.size());
  Push(DueAfter(delay), sink, token);
}

void SimClock::Push(int64_t due, SinkId sink, uint32_t token) {
  queue_.push_back(Event{due, next_seq_++, sink, token});
  SiftUp(queue_, queue_.size() - 1, Earlier);
}

SimClock::Event SimClock::Pop() {
  const Event event = queue_.front();
  queue_.front() = queue_.back();
  queue_.pop_back();
  if (!queue_.empty()) SiftDown(queue_, 0, Earlier);
  return event;
}

bool SimClock::IsStale(const Event& event) const {
  return event.sink == kTimerSink && slots_[event.token].seq != event.seq;
}

bool SimClock::SkipStale() {
  while (!queue_.empty() && IsStale(queue_.front())) {
    Pop();
    --tombstones_;
  }
  return !queue_.empty();
}

void SimClock::MaybeCompact() {
  if (queue_.size() < kMinCompactSize || tombstones_ * 2 < queue_.size()) {
    return;
  }
  std::erase_if(queue_, [this](const Event& e) { return IsStale(e); });
  MakeHeap(queue_, Earlier);
  tombstones_ = 0;
}

uint32_t SimClock::AllocateSlot() {
  if (free_head_ == kNoSlot) {
    slots_.emplace_back();
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  const uint32_t slot = free_head_;
  free_head_ = slots_[slot].next_free;
  return slot;
}

void SimClock::FreeSlot(uint32_t slot) {
  TimerSlot& timer = slots_[slot];
  timer.fn = nullptr;
  timer.seq = 0;
  ++timer.generation;
  timer.next_free = free_head_;
  free_head_ = slot;
}

void SimClock::Dispatch(const Event& event) {
  ++events_run_;
  if (event.sink != kTimerSink) {
    if (EventSink* sink = sinks_[event.sink]) sink->OnEvent(event.token);
    return;
  }
  // Free the slot before running: the callback may schedule (and so grow
  // the slab) or cancel its own, already spent, id.
  absl::AnyInvocable<void()> fn = std::move(slots_[event.token].fn);
  FreeSlot(event.token);
  fn();
}

bool SimClock::RunNext() {
  assert(!running_);
  if (!SkipStale()) return false;
  const Event event = Pop();
  now_ = std::max(now_, event.due);
  running_ = true;
  Dispatch(event);
  running_ = false;
  return true;
}

size_t SimClock::RunUntil(absl::Time until) {
  const int64_t end = DueAfter(until - Now());
  size_t ran = 0;
  while (SkipStale() && queue_.front().due <= end) {
    RunNext();
    ++ran;
  }
  now_ = std::max(now_, end);
  return ran;
}

size_t SimClock::RunUntilIdle(absl::Duration limit) {
  const int64_t end = DueAfter(limit);
  size_t ran = 0;
  while (SkipStale() && queue_.front().due <= end) {
    RunNext();
    ++ran;
  }
  return ran;
}

bool SimClock::RunWhile(absl::FunctionRef<bool()> keep_running,
                        absl::Time deadline) {
  const int64_t end = DueAfter(deadline - Now());
  while (keep_running()) {
    if (!SkipStale() || queue_.front().due > end) {
      now_ = std::max(now_, end);
      return false;
    }
    RunNext();
  }
  return true;
}

}  // namespace kad::net

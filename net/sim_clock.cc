#include "net/sim_clock.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>
#include <utility>

namespace kad::net {
namespace {

// Compaction is not worth it for small queues.
constexpr size_t kMinCompactSize = 4096;
// An emptied bucket keeps storage for this many events, and more while
// all the buckets' storage stays within twice the queue (plus this much
// per bucket).
constexpr size_t kKeptBucketEvents = 1024;

constexpr uint32_t kNoSlot = std::numeric_limits<uint32_t>::max();
// Generations live in the low 31 bits of Event::tag; a slot whose
// generation would reach this is retired rather than reused, so a
// tombstone can never match a later timer in its slot.
constexpr uint32_t kRetiredGeneration = 0x7fff'ffffu;

TimerId MakeTimerId(uint32_t slot, uint32_t generation) {
  return (uint64_t{generation} << 32) | (uint64_t{slot} + 1);
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
  const uint32_t generation = slots_[slot].generation;
  Push(DueAfter(delay), slot, kTimerTag | generation);
  return MakeTimerId(slot, generation);
}

void SimClock::Cancel(TimerId id) {
  const uint64_t slot = (id & 0xffffffffu) - 1;
  const uint32_t generation = static_cast<uint32_t>(id >> 32);
  if (slot >= slots_.size()) return;
  TimerSlot& timer = slots_[slot];
  if (timer.generation != generation || timer.fn == nullptr) return;
  ++tombstones_;
  due_bound_exact_ = false;  // It may have been this timer's.
  FreeSlot(static_cast<uint32_t>(slot));
  MaybeCompact();
}

SimClock::SinkId SimClock::AddSink(EventSink* sink) {
  assert(sinks_.size() < kTimerTag);
  sinks_.push_back(sink);
  return static_cast<SinkId>(sinks_.size() - 1);
}

void SimClock::RemoveSink(SinkId sink) {
  assert(sink != 0 && sink < sinks_.size());
  sinks_[sink] = nullptr;
}

void SimClock::ScheduleEvent(absl::Duration delay, SinkId sink,
                             uint32_t token) {
  assert(sink != 0 && sink < sinks_.size());
  Push(DueAfter(delay), token, sink);
}

// ---- The radix heap ---------------------------------------------------------

size_t SimClock::BucketOf(int64_t due) const {
  assert(due >= base_);
  return static_cast<size_t>(std::bit_width(static_cast<uint64_t>(due) ^
                                            static_cast<uint64_t>(base_)));
}

void SimClock::Push(int64_t due, uint32_t token, uint32_t tag) {
  buckets_[BucketOf(due)].push_back(Event{due, token, tag});
  ++size_;
  due_bound_ = std::min(due_bound_, due);
}

bool SimClock::IsStale(const Event& event) const {
  return (event.tag & kTimerTag) != 0 &&
         slots_[event.token].generation != (event.tag & ~kTimerTag);
}

bool SimClock::Advance(int64_t end) {
  std::vector<Event>& ready = buckets_[0];
  if (front_ == ready.size() && due_bound_ > end) return false;
  while (true) {
    for (; front_ < ready.size(); ++front_) {
      if (!IsStale(ready[front_])) return base_ <= end;
      --size_;
      --tombstones_;
    }
    ready.clear();
    front_ = 0;
    ReleaseIfOversized(ready);
    size_t k = 1;
    while (k < kBuckets && buckets_[k].empty()) ++k;
    if (k == kBuckets) {
      due_bound_ = std::numeric_limits<int64_t>::max();
      due_bound_exact_ = true;
      return false;
    }
    const int64_t earliest = DropStaleAndFindMin(k);
    if (earliest == std::numeric_limits<int64_t>::max()) continue;
    if (earliest > end) {
      due_bound_ = earliest;  // The earliest live event of all.
      due_bound_exact_ = true;
      // Nothing to run yet. Dealing the bucket about the current time
      // (which stays below every due time, so later Schedule calls remain
      // valid) narrows the next scan.
      if (now_ > base_) Rebase(k, now_);
      return false;
    }
    Rebase(k, earliest);
  }
}

int64_t SimClock::DropStaleAndFindMin(size_t k) {
  std::vector<Event>& bucket = buckets_[k];
  int64_t earliest = std::numeric_limits<int64_t>::max();
  size_t kept = 0;
  for (const Event& event : bucket) {
    if (IsStale(event)) continue;
    earliest = std::min(earliest, event.due);
    bucket[kept++] = event;
  }
  const size_t dropped = bucket.size() - kept;
  size_ -= dropped;
  tombstones_ -= dropped;
  bucket.resize(kept);
  return earliest;
}

void SimClock::Rebase(size_t k, int64_t base) {
  assert(base >= base_);
  base_ = base;
  // Deal from a swapped-out vector: an event may land back in bucket k
  // when the base moves by less than the bucket's width.
  scratch_.clear();
  scratch_.swap(buckets_[k]);
  for (const Event& event : scratch_)
    buckets_[BucketOf(event.due)].push_back(event);
  scratch_.clear();
  ReleaseIfOversized(scratch_);
}

void SimClock::ReleaseIfOversized(std::vector<Event>& bucket) {
  if (bucket.capacity() <= kKeptBucketEvents) return;
  size_t capacity = scratch_.capacity();
  for (const std::vector<Event>& b : buckets_) capacity += b.capacity();
  if (capacity > 2 * size_ + kBuckets * kKeptBucketEvents) {
    std::vector<Event>().swap(bucket);
  }
}

SimClock::Event SimClock::PopFront() {
  --size_;
  due_bound_exact_ = false;
  return buckets_[0][front_++];
}

void SimClock::MaybeCompact() {
  if (size_ < kMinCompactSize || tombstones_ * 2 < size_) return;
  std::vector<Event>& ready = buckets_[0];
  ready.erase(ready.begin(), ready.begin() + static_cast<ptrdiff_t>(front_));
  front_ = 0;
  for (std::vector<Event>& bucket : buckets_) {
    std::erase_if(bucket, [this](const Event& e) { return IsStale(e); });
    ReleaseIfOversized(bucket);
  }
  size_ -= tombstones_;
  tombstones_ = 0;
}

// ---- Timer slots and running ------------------------------------------------

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
  if (++timer.generation == kRetiredGeneration) return;
  timer.next_free = free_head_;
  free_head_ = slot;
}

void SimClock::Dispatch(const Event& event) {
  ++events_run_;
  if ((event.tag & kTimerTag) == 0) {
    if (EventSink* sink = sinks_[event.tag]) sink->OnEvent(event.token);
    return;
  }
  // Free the slot before running: the callback may schedule (and so grow
  // the slab) or cancel its own, already spent, id.
  absl::AnyInvocable<void()> fn = std::move(slots_[event.token].fn);
  FreeSlot(event.token);
  fn();
}

void SimClock::RunFront() {
  const Event event = PopFront();
  now_ = std::max(now_, event.due);
  running_ = true;
  Dispatch(event);
  running_ = false;
}

bool SimClock::RunNext() {
  assert(!running_);
  if (!Advance(std::numeric_limits<int64_t>::max())) return false;
  RunFront();
  return true;
}

size_t SimClock::RunUntil(absl::Time until) {
  assert(!running_);
  const int64_t end = DueAfter(until - Now());
  size_t ran = 0;
  while (Advance(end)) {
    RunFront();
    ++ran;
  }
  now_ = std::max(now_, end);
  return ran;
}

size_t SimClock::RunUntilIdle(absl::Duration limit) {
  assert(!running_);
  const int64_t end = DueAfter(limit);
  size_t ran = 0;
  while (Advance(end)) {
    RunFront();
    ++ran;
  }
  return ran;
}

bool SimClock::RunWhile(absl::FunctionRef<bool()> keep_running,
                        absl::Time deadline) {
  assert(!running_);
  const int64_t end = DueAfter(deadline - Now());
  while (keep_running()) {
    if (!Advance(end)) {
      now_ = std::max(now_, end);
      return false;
    }
    RunFront();
  }
  return true;
}

absl::Time SimClock::NextDue() {
  assert(!running_);
  if (!due_bound_exact_) {
    // Bucket 0 holds the events due at the base, each bucket above later
    // ones: the earliest live event is in the first bucket with one. No
    // rebase, so every later Schedule call stays valid.
    std::vector<Event>& ready = buckets_[0];
    for (; front_ < ready.size() && IsStale(ready[front_]); ++front_) {
      --size_;
      --tombstones_;
    }
    due_bound_ = std::numeric_limits<int64_t>::max();
    if (front_ < ready.size()) {
      due_bound_ = base_;
    } else {
      for (size_t k = 1; k < kBuckets; ++k) {
        if (buckets_[k].empty()) continue;
        due_bound_ = DropStaleAndFindMin(k);
        if (due_bound_ != std::numeric_limits<int64_t>::max()) break;
      }
    }
    due_bound_exact_ = true;
  }
  if (due_bound_ == std::numeric_limits<int64_t>::max()) {
    return absl::InfiniteFuture();
  }
  return start_ + absl::Nanoseconds(due_bound_);
}

void SimClock::AdvanceTo(absl::Time t) {
  assert(!running_);
  const int64_t to = DueAfter(t - Now());
  assert(NextDue() >= start_ + absl::Nanoseconds(to));
  now_ = std::max(now_, to);
}

}  // namespace kad::net

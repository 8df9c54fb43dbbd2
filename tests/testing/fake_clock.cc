#include "tests/testing/fake_clock.h"

namespace kad::testing {

net::TimerId FakeClock::Schedule(absl::Duration delay,
                                 absl::AnyInvocable<void()> fn) {
  net::TimerId id = next_id_++;
  absl::Time due = now_ + std::max(delay, absl::ZeroDuration());
  timers_.emplace(Key{due, id}, std::move(fn));
  due_by_id_[id] = due;
  return id;
}

void FakeClock::Cancel(net::TimerId id) {
  auto it = due_by_id_.find(id);
  if (it == due_by_id_.end()) return;
  timers_.erase(Key{it->second, id});
  due_by_id_.erase(it);
}

bool FakeClock::RunNext() {
  if (timers_.empty()) return false;
  auto it = timers_.begin();
  now_ = std::max(now_, it->first.first);
  auto fn = std::move(it->second);
  due_by_id_.erase(it->first.second);
  timers_.erase(it);
  fn();
  return true;
}

void FakeClock::Advance(absl::Duration delta) {
  absl::Time end = now_ + delta;
  while (!timers_.empty() && timers_.begin()->first.first <= end) RunNext();
  now_ = end;
}

size_t FakeClock::RunUntilIdle(absl::Duration limit) {
  absl::Time end = now_ + limit;
  size_t ran = 0;
  while (!timers_.empty() && timers_.begin()->first.first <= end) {
    RunNext();
    ++ran;
  }
  return ran;
}

}  // namespace kad::testing

// Discrete-event scheduler: events ordered by (time, insertion sequence). No wall clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "parley/types.hpp"

namespace parley::sim {

class Scheduler {
 public:
  explicit Scheduler(TimeMs start) : now_(start) {}

  TimeMs now() const { return now_; }
  std::size_t pending() const { return q_.size(); }
  std::uint64_t steps() const { return steps_; }

  // Schedules `fn` at `at` (never in the past).
  void at(TimeMs at, std::function<void()> fn) {
    q_.emplace(std::make_pair(at < now_ ? now_ : at, next_++), std::move(fn));
  }
  void after(TimeMs delay, std::function<void()> fn) { at(now_ + delay, std::move(fn)); }

  // Runs the earliest event. Returns false when nothing is scheduled.
  bool step() {
    if (q_.empty()) return false;
    auto it = q_.begin();
    now_ = it->first.first;
    auto fn = std::move(it->second);
    q_.erase(it);
    ++steps_;
    fn();
    return true;
  }

 private:
  TimeMs now_;
  std::uint64_t next_ = 0;
  std::uint64_t steps_ = 0;
  std::map<std::pair<TimeMs, std::uint64_t>, std::function<void()>> q_;
};

}  // namespace parley::sim

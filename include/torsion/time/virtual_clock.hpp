#pragma once
// A clock for tests: time stands still until advance(). Due timers then fire in deadline order,
// first-in first-out on ties, including timers scheduled at or before the new time while
// advancing (Twisted's task.Clock semantics).
#include <initializer_list>

#include "torsion/time/clock.hpp"

namespace torsion {

class virtual_clock : public clock_source {
 public:
  time_point now() const noexcept override { return now_; }
  void schedule(timer_entry& e) override { q_.push(e); }
  void cancel(timer_entry& e) noexcept override { q_.erase(e); }

  void advance(duration d);
  void pump(std::initializer_list<duration> steps) {
    for (duration d : steps) advance(d);
  }
  std::size_t pending() const noexcept { return q_.size(); }

 private:
  time_point now_{};
  timer_queue q_;
};

}  // namespace torsion

#pragma once
// A clock that can tell the time and fire timers. The real clock is driven by the proactor; the
// virtual clock only moves when a test advances it. Everything that waits on time (sleep_for,
// with_timeout, the connector's retry delays, callLater) takes a clock, so it runs under either.
#include "torsion/time/timer_queue.hpp"

namespace torsion {

class clock_source {
 public:
  using duration = clock_duration;
  using time_point = clock_time_point;

  virtual ~clock_source() = default;
  virtual time_point now() const noexcept = 0;
  // Fire `e.fire(e)` at `e.deadline`. The entry must stay alive until it fires or is cancelled.
  virtual void schedule(timer_entry& e) = 0;
  virtual void cancel(timer_entry& e) noexcept = 0;

  // Seconds since the clock's epoch, as Twisted's IReactorTime.seconds().
  double seconds() const noexcept { return std::chrono::duration<double>(now().time_since_epoch()).count(); }
};

}  // namespace torsion

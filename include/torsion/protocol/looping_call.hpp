#pragma once
// LoopingCall: Twisted's task.LoopingCall on a Torsion clock. Names stay camelCase so ported Twisted code
// reads line for line.
//
// Scheduling (Twisted's, spec §4.6): start(interval) calls f at once (unless now=false), then at the next
// multiple of `interval` after the start time that is strictly in the future. Missed intervals are skipped,
// not replayed: start(1.0) pumped by [.5, .5, .5, .5, 3.2] calls at 0, 1, 2 and 5.2. The arithmetic is done
// in clock ticks (nanoseconds), so Twisted's floating-point "effectively zero" guard is not needed.
//
// Interval 0 means "as often as possible": the next call is scheduled for now. On the real clock that is once
// per loop turn (a timer made while timers are being run waits for the next turn). On the virtual clock, as on
// Twisted's task.Clock, a call due now runs in the same advance(), so the loop spins inside one advance() until
// f calls stop() (test_withCountIntervalZero): an interval-0 loop that never stops hangs advance().
//
// Differences from Twisted (no Deferred, no assert-as-exception, and a few C++ object-lifetime rules):
//  - start() returns an error instead of asserting or raising: operation_in_progress if already running,
//    invalid_argument if interval < 0 (or NaN);
//  - completion is reported through `on_stopped` instead of the Deferred start() returns: with nullptr after
//    stop(), with the exception when f throws (running is already false then). Set it before start(). If f
//    calls stop(), on_stopped runs once f has returned, as Twisted fires the Deferred then. An exception from
//    on_stopped itself reaches the caller of stop()/start(), or is logged when the clock ran the loop;
//  - f cannot return a Deferred: the next call is scheduled as soon as f returns;
//  - stop() and reset() on a loop that is not running do nothing;
//  - start() forgets the previous run's withCount bookkeeping (Twisted keeps it, which miscounts the first
//    call after a restart);
//  - the object is movable, not copyable; a running loop may be moved (its pending call follows it). Destroying
//    a running loop cancels its pending call without calling on_stopped. f may destroy the LoopingCall it runs
//    in.
#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include "torsion/core/result.hpp"
#include "torsion/protocol/delayed_call.hpp"
#include "torsion/time/clock.hpp"

namespace torsion::twisted {

class LoopingCall {
  struct count_tag {
    explicit count_tag() = default;
  };

 public:
  explicit LoopingCall(std::function<void()> f);
  // f receives the number of intervals that elapsed since it was last called (>= 1; always 1 for interval 0).
  static LoopingCall withCount(std::function<void(int)> f);

  LoopingCall(const LoopingCall&) = delete;
  LoopingCall& operator=(const LoopingCall&) = delete;
  LoopingCall(LoopingCall&& other) noexcept;
  // Cancels this loop's pending call (without on_stopped) before taking over `other`'s.
  LoopingCall& operator=(LoopingCall&& other) noexcept;
  ~LoopingCall();

  // Call f every `interval` seconds, the first time now if `now`.
  result<void> start(double interval, bool now = true);
  // Stop calling f and cancel the pending call; on_stopped(nullptr) follows.
  void stop();
  // Skip the next call and restart the interval timer from now.
  void reset();

  clock_source* clock = nullptr;  // set before start(); null means the current thread's real clock
  bool running = false;           // true from start() until stop() or an exception from f
  double interval = 0;            // seconds; read again each time the next call is scheduled
  std::function<void(std::exception_ptr)> on_stopped;

 private:
  LoopingCall(count_tag, std::function<void(int)> f);

  static void invoke(const std::shared_ptr<LoopingCall*>& anchor);
  void invokeCount();
  void detach() noexcept;
  void takeOver(LoopingCall& other) noexcept;
  void scheduleFrom(clock_time_point when);
  clock_duration intervalTicks() const noexcept;
  void finish(std::exception_ptr ep);

  std::function<void()> f_;
  std::function<void(int)> count_f_;   // set instead of f_ by withCount()
  std::shared_ptr<DelayedCall> call_;  // the pending call; null while f runs or when not running
  clock_time_point starttime_{};
  std::optional<clock_time_point> realLastTime_;  // withCount: when f was last called
  bool runAtStart_ = false;
  // Where this loop lives now: the pending call and a running f reach the loop through it, so the loop can move,
  // and it reads null once the loop is destroyed. Made on first start().
  std::shared_ptr<LoopingCall*> anchor_;
};

}  // namespace torsion::twisted

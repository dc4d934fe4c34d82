#pragma once
// callLater and DelayedCall: Twisted's IReactorTime.callLater / IDelayedCall on a Torsion clock.
// Names stay camelCase so ported Twisted code reads line for line.
//
// Semantics (Twisted's, spec §4.6):
//  - `called()` is set before the function runs, so cancel() from inside it reports already_called;
//  - calls due at the same instant run first-in first-out; reset() and delay() re-insert the call, so it
//    then runs after the calls already scheduled for its new time;
//  - on the virtual clock a callLater(0) made while advance() runs, runs in that same advance();
//  - an exception from the function is logged to stderr and swallowed: later calls still run.
// Torsion decisions:
//  - a negative delay given to callLater() or reset() is clamped to 0 (Twisted's reactor asserts instead,
//    spec §7.2 "Different on purpose" 4); delay() may still move a call earlier, as in Twisted;
//  - a scheduled call keeps itself alive, so the function runs even if the caller drops the handle. It lets
//    go of itself (and of the function and its captures) when it fires or is cancelled. A call still pending
//    when its clock is destroyed is never released: cancel pending calls before destroying the clock.
#include <exception>
#include <functional>
#include <memory>
#include <system_error>
#include <type_traits>

#include "torsion/core/result.hpp"
#include "torsion/time/clock.hpp"

namespace torsion::twisted {

// Why cancel(), reset() or delay() refused: Twisted's AlreadyCancelled and AlreadyCalled exceptions.
enum class delayed_call_error : int {
  already_cancelled = 1,  // the call was cancelled before
  already_called,         // the call has run, or is running now
};

const std::error_category& delayed_call_category() noexcept;

inline std::error_code make_error_code(delayed_call_error e) noexcept {
  return {static_cast<int>(e), delayed_call_category()};
}

class DelayedCall : public std::enable_shared_from_this<DelayedCall> {
  struct passkey {
    explicit passkey() = default;
  };

 public:
  // Use callLater(); the passkey keeps the constructor usable by std::make_shared only.
  DelayedCall(passkey, clock_source& clock, std::function<void()> fn);
  DelayedCall(const DelayedCall&) = delete;
  DelayedCall& operator=(const DelayedCall&) = delete;
  ~DelayedCall() = default;

  // When the call runs (or would have run), in seconds on the clock's timeline (clock_source::seconds()).
  double getTime() const noexcept;

  // Unschedule the call. Errors: already_cancelled, already_called.
  result<void> cancel();
  // Run the call `secondsFromNow` seconds from now instead (negative means now). Errors as cancel().
  result<void> reset(double secondsFromNow);
  // Run the call `secondsLater` seconds after its current time (negative moves it earlier). Errors as cancel().
  result<void> delay(double secondsLater);

  // True until the call runs or is cancelled.
  bool active() const noexcept { return !called_ && !cancelled_; }
  bool called() const noexcept { return called_; }
  bool cancelled() const noexcept { return cancelled_; }

 private:
  friend std::shared_ptr<DelayedCall> callLater(clock_source&, clock_duration, std::function<void()>);

  struct entry : timer_entry {
    DelayedCall* self = nullptr;
  };

  static void on_fire(timer_entry& e);
  result<void> check_active() const;
  void reschedule(clock_time_point deadline);

  clock_source& clock_;
  entry entry_;
  std::function<void()> fn_;
  std::shared_ptr<DelayedCall> keep_alive_;  // set while scheduled, so a dropped handle still fires
  bool called_ = false;
  bool cancelled_ = false;
};

// Run `fn` after `seconds` (clamped to >= 0) on `clock`. The returned handle may be dropped.
std::shared_ptr<DelayedCall> callLater(clock_source& clock, double seconds, std::function<void()> fn);
// The same with an exact delay, for callers that compute in clock ticks.
std::shared_ptr<DelayedCall> callLater(clock_source& clock, clock_duration delay, std::function<void()> fn);

// Seconds as a clock duration, rounded to the nearest tick (so 0.3 s is exactly 300'000'000 ns). NaN is 0;
// magnitudes are capped at about 146 years so that adding the result to a clock reading cannot overflow.
clock_duration seconds_to_duration(double seconds) noexcept;

}  // namespace torsion::twisted

namespace torsion::detail {
// Log an exception that escaped a callback, as Twisted's log.err does, and carry on. (In torsion::detail, not a
// twisted::detail that would hide torsion::detail inside namespace twisted.)
void log_unhandled_callback_error(std::exception_ptr ep) noexcept;
}  // namespace torsion::detail

template <>
struct std::is_error_code_enum<torsion::twisted::delayed_call_error> : std::true_type {};

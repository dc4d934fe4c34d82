#include "torsion/protocol/delayed_call.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace torsion::twisted {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "torsion.delayed_call"; }

  std::string message(int v) const override {
    switch (static_cast<delayed_call_error>(v)) {
      case delayed_call_error::already_cancelled:
        return "AlreadyCancelled: tried to cancel an already-cancelled event.";
      case delayed_call_error::already_called: return "AlreadyCalled: tried to cancel an already-called event.";
    }
    return "unknown delayed_call error";
  }
};

}  // namespace

const std::error_category& delayed_call_category() noexcept {
  static const category c;
  return c;
}

clock_duration seconds_to_duration(double seconds) noexcept {
  constexpr double cap = 4.6e18;  // ns, about 146 years: far from the int64 limit even after adding `now`
  if (std::isnan(seconds)) return clock_duration{0};
  double ns = std::round(seconds * 1e9);
  if (ns > cap) ns = cap;
  if (ns < -cap) ns = -cap;
  return clock_duration{static_cast<std::int64_t>(ns)};
}

}  // namespace torsion::twisted

namespace torsion::detail {

void log_unhandled_callback_error(std::exception_ptr ep) noexcept {
  // One line, like Twisted's log.err for an unhandled error; the loop keeps going.
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Unhandled error in Deferred/DelayedCall: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "Unhandled error in Deferred/DelayedCall: unknown exception\n");
  }
}

}  // namespace torsion::detail

namespace torsion::twisted {

DelayedCall::DelayedCall(passkey, clock_source& clock, std::function<void()> fn) : clock_(clock), fn_(std::move(fn)) {
  entry_.self = this;
  entry_.fire = &DelayedCall::on_fire;
}

double DelayedCall::getTime() const noexcept {
  return std::chrono::duration<double>(entry_.deadline.time_since_epoch()).count();
}

result<void> DelayedCall::check_active() const {
  if (cancelled_) return failure(make_error_code(delayed_call_error::already_cancelled));
  if (called_) return failure(make_error_code(delayed_call_error::already_called));
  return success();
}

result<void> DelayedCall::cancel() {
  TORSION_TRY(check_active());
  clock_.cancel(entry_);
  cancelled_ = true;
  // Twisted drops func/args on cancel; releasing the captures also breaks any cycle through them. Locals
  // die in reverse order, so the self-reference (which may be all that keeps *this alive) goes last.
  std::shared_ptr<DelayedCall> keep = std::move(keep_alive_);
  std::function<void()> fn = std::move(fn_);
  return success();
}

void DelayedCall::reschedule(clock_time_point deadline) {
  // Re-insert rather than adjust in place: the call takes a fresh sequence number, so among calls due at
  // the same time it now runs last (test_callLaterKeepsCallsOrdered relies on re-sorting by time only).
  clock_.cancel(entry_);
  entry_.deadline = deadline;
  clock_.schedule(entry_);
}

result<void> DelayedCall::reset(double secondsFromNow) {
  TORSION_TRY(check_active());
  clock_duration d = seconds_to_duration(secondsFromNow);
  if (d < clock_duration::zero()) d = clock_duration::zero();
  reschedule(clock_.now() + d);
  return success();
}

result<void> DelayedCall::delay(double secondsLater) {
  TORSION_TRY(check_active());
  reschedule(entry_.deadline + seconds_to_duration(secondsLater));
  return success();
}

void DelayedCall::on_fire(timer_entry& e) {
  DelayedCall* self = static_cast<entry&>(e).self;
  // Both locals outlive the call: `keep` holds *this while the function runs (it may drop the last handle),
  // and the function is released once it returns, as Twisted does.
  std::shared_ptr<DelayedCall> keep = std::move(self->keep_alive_);
  std::function<void()> fn = std::move(self->fn_);
  self->called_ = true;  // before the call: cancel() from inside it reports already_called
  try {
    if (fn) fn();
  } catch (...) {
    torsion::detail::log_unhandled_callback_error(std::current_exception());
  }
}

std::shared_ptr<DelayedCall> callLater(clock_source& clock, clock_duration delay, std::function<void()> fn) {
  if (delay < clock_duration::zero()) delay = clock_duration::zero();
  auto dc = std::make_shared<DelayedCall>(DelayedCall::passkey{}, clock, std::move(fn));
  dc->entry_.deadline = clock.now() + delay;
  clock.schedule(dc->entry_);
  dc->keep_alive_ = dc;
  return dc;
}

std::shared_ptr<DelayedCall> callLater(clock_source& clock, double seconds, std::function<void()> fn) {
  return callLater(clock, seconds_to_duration(seconds), std::move(fn));
}

}  // namespace torsion::twisted

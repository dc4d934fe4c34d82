#include "torsion/protocol/looping_call.hpp"

#include <climits>
#include <system_error>
#include <utility>

#include "torsion/time/real_clock.hpp"

namespace torsion::twisted {

LoopingCall::LoopingCall(std::function<void()> f) : f_(std::move(f)) {}

LoopingCall::LoopingCall(count_tag, std::function<void(int)> f) : count_f_(std::move(f)) {}

LoopingCall LoopingCall::withCount(std::function<void(int)> f) { return LoopingCall(count_tag{}, std::move(f)); }

LoopingCall::LoopingCall(LoopingCall&& other) noexcept { takeOver(other); }

LoopingCall& LoopingCall::operator=(LoopingCall&& other) noexcept {
  if (this != &other) {
    detach();
    takeOver(other);
  }
  return *this;
}

LoopingCall::~LoopingCall() { detach(); }

void LoopingCall::detach() noexcept {
  if (anchor_) *anchor_ = nullptr;
  anchor_.reset();
  if (call_) (void)call_->cancel();
  call_.reset();
  running = false;
}

void LoopingCall::takeOver(LoopingCall& other) noexcept {
  clock = other.clock;
  running = std::exchange(other.running, false);
  interval = other.interval;
  on_stopped = std::move(other.on_stopped);
  f_ = std::move(other.f_);
  count_f_ = std::move(other.count_f_);
  call_ = std::move(other.call_);
  starttime_ = other.starttime_;
  realLastTime_ = other.realLastTime_;
  runAtStart_ = other.runAtStart_;
  anchor_ = std::move(other.anchor_);
  if (anchor_) *anchor_ = this;
}

result<void> LoopingCall::start(double seconds, bool now) {
  if (running) return failure(std::make_error_code(std::errc::operation_in_progress));
  if (!(seconds >= 0)) return failure(std::make_error_code(std::errc::invalid_argument));  // NaN too
  if (!clock) clock = &real_clock::current();
  if (!anchor_) anchor_ = std::make_shared<LoopingCall*>(this);
  running = true;
  interval = seconds;
  starttime_ = clock->now();
  runAtStart_ = now;
  realLastTime_.reset();
  if (now) invoke(anchor_);
  else scheduleFrom(starttime_);
  return success();
}

void LoopingCall::stop() {
  if (!running) return;
  running = false;
  // No pending call means f is running now: on_stopped then follows when it returns (invoke()).
  if (!call_) return;
  (void)call_->cancel();
  call_.reset();
  finish(nullptr);
}

void LoopingCall::reset() {
  if (!running || !call_) return;
  (void)call_->cancel();
  call_.reset();
  starttime_ = clock->now();
  scheduleFrom(starttime_);
}

void LoopingCall::finish(std::exception_ptr ep) {
  // A copy: on_stopped may reassign itself, restart the loop or destroy *this.
  auto cb = on_stopped;
  if (cb) cb(ep);
}

void LoopingCall::invoke(const std::shared_ptr<LoopingCall*>& anchor_ref) {
  // Our own reference: f may destroy or move the loop, and with it the loop's anchor_ member.
  const std::shared_ptr<LoopingCall*> anchor = anchor_ref;
  LoopingCall* self = *anchor;
  self->call_.reset();
  try {
    if (self->count_f_) self->invokeCount();
    else self->f_();
  } catch (...) {
    self = *anchor;
    if (!self) {  // f destroyed the loop: nobody left to tell
      torsion::detail::log_unhandled_callback_error(std::current_exception());
      return;
    }
    self->running = false;
    // f may have stopped and restarted the loop before throwing; the run is over either way.
    if (self->call_) (void)self->call_->cancel();
    self->call_.reset();
    self->finish(std::current_exception());
    return;
  }
  self = *anchor;
  if (!self) return;  // f destroyed the loop
  if (!self->running) {
    self->finish(nullptr);
    return;
  }
  // A stop() and start() inside f has already scheduled the next call.
  if (!self->call_) self->scheduleFrom(self->clock->now());
}

void LoopingCall::invokeCount() {
  const clock_time_point now = clock->now();
  const clock_duration iv = intervalTicks();
  if (iv == clock_duration::zero()) {
    realLastTime_ = now;
    count_f_(1);
    return;
  }
  clock_time_point last = starttime_;
  if (realLastTime_) last = *realLastTime_;
  else if (runAtStart_) last -= iv;
  // Division truncates toward zero, like Python's int() in Twisted's _intervalOf.
  const auto count = (now - starttime_) / iv - (last - starttime_) / iv;
  if (count > 0) {
    realLastTime_ = now;
    count_f_(count > INT_MAX ? INT_MAX : static_cast<int>(count));
  }
}

clock_duration LoopingCall::intervalTicks() const noexcept {
  const clock_duration iv = seconds_to_duration(interval);
  return iv < clock_duration::zero() ? clock_duration::zero() : iv;
}

void LoopingCall::scheduleFrom(clock_time_point when) {
  const clock_duration iv = intervalTicks();
  clock_duration wait = clock_duration::zero();
  if (iv > clock_duration::zero()) {
    // The end of the current interval, measured from the start time: always strictly in the future.
    clock_duration into = (when - starttime_) % iv;
    if (into < clock_duration::zero()) into += iv;
    wait = iv - into;
  }
  // Through the anchor, which follows a move; the destructor cancels this call anyway.
  call_ = callLater(*clock, wait, [anchor = anchor_] {
    if (*anchor) invoke(anchor);
  });
}

}  // namespace torsion::twisted

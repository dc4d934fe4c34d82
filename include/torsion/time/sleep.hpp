#pragma once
// sleep_for / sleep_until: suspend the calling task on a clock (the proactor's real clock unless
// one is given). A stop request from the task's stop token ends the wait early with
// operation_canceled.
#include <optional>
#include <stop_token>

#include "torsion/core/result.hpp"
#include "torsion/core/scheduler.hpp"
#include "torsion/core/task.hpp"
#include "torsion/time/clock.hpp"
#include "torsion/time/real_clock.hpp"

namespace torsion {

class sleep_awaiter {
 public:
  sleep_awaiter(clock_source& c, clock_source::time_point deadline) noexcept : clock_(c) {
    entry_.deadline = deadline;
    entry_.self = this;
    entry_.fire = &sleep_awaiter::on_fire;
  }
  sleep_awaiter(const sleep_awaiter&) = delete;
  ~sleep_awaiter() {
    stop_cb_.reset();
    if (entry_.scheduled()) clock_.cancel(entry_);
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    waiter_ = h;
    const std::stop_token* stop = detail::stop_token_of(h);
    if (detail::stop_requested(stop)) {
      cancelled_ = true;
      return false;
    }
    clock_.schedule(entry_);
    if (stop && stop->stop_possible()) stop_cb_.emplace(*stop, on_stop{this});
    return true;
  }
  result<void> await_resume() const noexcept {
    if (cancelled_) return failure(errc::operation_canceled);
    return success();
  }

 private:
  struct entry : timer_entry {
    sleep_awaiter* self = nullptr;
  };
  struct on_stop {
    sleep_awaiter* self;
    void operator()() const noexcept {
      if (!self->entry_.scheduled()) return;
      self->clock_.cancel(self->entry_);
      self->cancelled_ = true;
      // We are inside request_stop(): resume on a later loop turn where there is a loop.
      if (scheduler* s = scheduler::current()) s->post(self->waiter_);
      else self->waiter_.resume();
    }
  };
  static void on_fire(timer_entry& e) {
    sleep_awaiter* self = static_cast<entry&>(e).self;
    if (proactor* px = proactor::current()) px->resume(self->waiter_);
    else self->waiter_.resume();
  }

  clock_source& clock_;
  entry entry_;
  std::coroutine_handle<> waiter_{};
  std::optional<std::stop_callback<on_stop>> stop_cb_;
  bool cancelled_ = false;
};

inline sleep_awaiter sleep_until(clock_source& c, clock_source::time_point t) noexcept { return {c, t}; }
inline sleep_awaiter sleep_for(clock_source& c, clock_source::duration d) noexcept { return {c, c.now() + d}; }
inline sleep_awaiter sleep_until(clock_source::time_point t) { return sleep_until(real_clock::current(), t); }
inline sleep_awaiter sleep_for(clock_source::duration d) { return sleep_for(real_clock::current(), d); }

}  // namespace torsion

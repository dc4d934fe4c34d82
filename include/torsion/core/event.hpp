#pragma once
// A single-waiter event: one coroutine waits until set(); set() before the wait makes it not
// suspend. Auto-reset: a wait consumes the signal. A stop request from the waiter's token ends the
// wait with false. Resumption always happens on a later loop turn (never inside set()).
#include <coroutine>
#include <optional>
#include <stop_token>

#include "torsion/core/scheduler.hpp"
#include "torsion/core/task.hpp"

namespace torsion {

class async_event {
 public:
  void set() noexcept {
    signalled_ = true;
    if (waiter_) wake(std::exchange(waiter_, {}));
  }
  bool is_set() const noexcept { return signalled_; }

  class awaiter {
   public:
    explicit awaiter(async_event& e) noexcept : e_(e) {}
    bool await_ready() const noexcept { return e_.signalled_; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      const std::stop_token* stop = detail::stop_token_of(h);
      if (detail::stop_requested(stop)) {
        stopped_ = true;
        return false;
      }
      e_.waiter_ = h;
      if (stop && stop->stop_possible()) cb_.emplace(*stop, on_stop{this});
      return true;
    }
    // True when signalled, false when stopped.
    bool await_resume() noexcept {
      cb_.reset();
      if (stopped_ && !e_.signalled_) return false;
      e_.signalled_ = false;
      return true;
    }

   private:
    struct on_stop {
      awaiter* self;
      void operator()() const noexcept {
        if (!self->e_.waiter_) return;
        self->stopped_ = true;
        wake(std::exchange(self->e_.waiter_, {}));
      }
    };
    async_event& e_;
    std::optional<std::stop_callback<on_stop>> cb_;
    bool stopped_ = false;
  };
  awaiter wait() noexcept { return awaiter(*this); }

 private:
  static void wake(std::coroutine_handle<> h) {
    if (scheduler* s = scheduler::current()) s->post(h);
    else h.resume();
  }
  std::coroutine_handle<> waiter_{};
  bool signalled_ = false;
};

}  // namespace torsion

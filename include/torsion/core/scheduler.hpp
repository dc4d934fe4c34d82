#pragma once
// The one thing the core layer needs from an event loop: a way to make progress while a task is
// suspended, and a way to resume a coroutine later on the loop's own thread. The proactor (io/)
// implements it; keeping it abstract keeps core/ free of io_uring.
#include <coroutine>

namespace torsion {

class scheduler {
 public:
  virtual ~scheduler() = default;

  // Wait for and process one batch of events. Called by sync_wait while its task is suspended.
  virtual void run_once() = 0;

  // Resume `h` on a later loop turn (never inline).
  virtual void post(std::coroutine_handle<> h) = 0;

  static scheduler* current() noexcept;

 protected:
  // Make `s` this thread's current scheduler; returns the previous one.
  static scheduler* exchange_current(scheduler* s) noexcept;
};

}  // namespace torsion

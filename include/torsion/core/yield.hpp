#pragma once
// co_await yield(): let the loop run other ready work, resume on its next turn.
#include <coroutine>

#include "torsion/core/scheduler.hpp"

namespace torsion {

struct yield_awaiter {
  bool await_ready() const noexcept { return scheduler::current() == nullptr; }
  void await_suspend(std::coroutine_handle<> h) const { scheduler::current()->post(h); }
  void await_resume() const noexcept {}
};

inline yield_awaiter yield() noexcept { return {}; }

}  // namespace torsion

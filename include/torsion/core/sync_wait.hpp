#pragma once
// Drive a task to completion from ordinary code, using this thread's scheduler (the proactor) to
// make progress whenever the task is suspended.
#include <stdexcept>
#include <stop_token>

#include "torsion/core/detail/spawned.hpp"
#include "torsion/core/scheduler.hpp"
#include "torsion/core/task.hpp"

namespace torsion {

template <class T>
T sync_wait(task<T> t, const std::stop_token* stop = nullptr) {
  detail::outcome_box<T> box;
  bool done = false;
  auto s = detail::run_into(std::move(t), &box);
  s.start([](void* ctx) noexcept -> std::coroutine_handle<> {
    *static_cast<bool*>(ctx) = true;
    return std::noop_coroutine();
  }, &done, stop);
  while (!done) {
    scheduler* sch = scheduler::current();
    try {
      if (!sch) throw std::logic_error("torsion::sync_wait: the task suspended but this thread has no proactor");
      sch->run_once();
    } catch (...) {
      // The task is suspended and still points at `done` and `box`: destroy it before they go.
      if (!done) s.h.destroy();
      throw;
    }
  }
  return box.take();
}

}  // namespace torsion

#pragma once
// A self-destroying coroutine used to start a task concurrently (sync_wait, task_group, when_all,
// when_any). When its body finishes it calls a completion hook that may hand back a coroutine to
// resume next (symmetric transfer), then frees its own frame.
#include <coroutine>
#include <exception>

#include "torsion/core/task.hpp"

namespace torsion::detail {

struct spawned {
  struct promise_type : promise_base {
    using done_fn = std::coroutine_handle<> (*)(void* ctx) noexcept;
    done_fn on_done = nullptr;
    void* ctx = nullptr;

    spawned get_return_object() noexcept { return spawned{std::coroutine_handle<promise_type>::from_promise(*this)}; }

    struct final_awaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        auto& p = h.promise();
        std::coroutine_handle<> next = p.on_done ? p.on_done(p.ctx) : std::noop_coroutine();
        h.destroy();
        return next;
      }
      void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    // Bodies catch everything themselves; reaching here is a bug in Torsion.
    void unhandled_exception() noexcept { std::terminate(); }
  };

  std::coroutine_handle<promise_type> h;

  void start(promise_type::done_fn fn, void* ctx, const std::stop_token* stop) noexcept {
    h.promise().on_done = fn;
    h.promise().ctx = ctx;
    h.promise().stop = stop;
    h.resume();
  }
};

// Where a spawned task's outcome lands.
template <class T>
struct outcome_box {
  std::variant<std::monostate, T, std::exception_ptr> v;
  void set_exception(std::exception_ptr e) noexcept { v.template emplace<2>(std::move(e)); }
  bool has_exception() const noexcept { return v.index() == 2; }
  std::exception_ptr exception() const noexcept { return has_exception() ? std::get<2>(v) : nullptr; }
  T take() {
    if (v.index() == 2) std::rethrow_exception(std::get<2>(v));
    return std::move(std::get<1>(v));
  }
};

template <>
struct outcome_box<void> {
  std::exception_ptr error;
  void set_exception(std::exception_ptr e) noexcept { error = std::move(e); }
  bool has_exception() const noexcept { return static_cast<bool>(error); }
  std::exception_ptr exception() const noexcept { return error; }
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

template <class T>
spawned run_into(task<T> t, outcome_box<T>* out) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
    } else {
      out->v.template emplace<1>(co_await std::move(t));
    }
  } catch (...) {
    out->set_exception(std::current_exception());
  }
}

}  // namespace torsion::detail

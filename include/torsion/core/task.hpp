#pragma once
// task<T>: a lazy coroutine. It starts when awaited and resumes its awaiter by symmetric transfer,
// so chains of any length run in constant stack. Exceptions thrown inside propagate to the awaiter.
// Each task carries a pointer to the stop token of whoever started it; I/O awaitables use it to
// cancel their operation when stop is requested.
#include <coroutine>
#include <exception>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <variant>

#include "torsion/core/frame_pool.hpp"

namespace torsion {

template <class T = void>
class task;

// A token that is never stopped (for task::with_stop_token).
inline const std::stop_token no_stop_token{};

namespace detail {

struct promise_base {
  std::coroutine_handle<> continuation{};
  const std::stop_token* stop = nullptr;

  static void* operator new(std::size_t n) { return frame_pool::allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_pool::deallocate(p, n); }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      auto next = h.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }
};

// The stop token of the coroutine behind `h`, if it is one of ours.
template <class P>
const std::stop_token* stop_token_of(std::coroutine_handle<P> h) noexcept {
  if constexpr (std::is_base_of_v<promise_base, P>) {
    return h.promise().stop;
  } else {
    return nullptr;
  }
}

inline bool stop_requested(const std::stop_token* t) noexcept { return t && t->stop_requested(); }

template <class T>
struct task_promise : promise_base {
  std::variant<std::monostate, T, std::exception_ptr> value;

  task<T> get_return_object() noexcept;
  void return_value(T v) { value.template emplace<1>(std::move(v)); }
  void unhandled_exception() noexcept { value.template emplace<2>(std::current_exception()); }

  T take() {
    if (value.index() == 2) std::rethrow_exception(std::get<2>(value));
    return std::move(std::get<1>(value));
  }
};

template <>
struct task_promise<void> : promise_base {
  std::exception_ptr error;

  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void unhandled_exception() noexcept { error = std::current_exception(); }

  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
  static_assert(!std::is_reference_v<T>, "task<T&> is not supported; return a pointer or a value");

 public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  // Run this task with `token` instead of inheriting the stop token of whoever awaits it (the token
  // must outlive the task). With no_stop_token it is shielded from its caller's cancellation:
  //   co_await s.write_all(buf).with_stop_token(no_stop_token);  // finishes even while stopping
  task with_stop_token(const std::stop_token& token) && noexcept {
    if (h_) h_.promise().stop = &token;
    return std::move(*this);
  }

  bool valid() const noexcept { return static_cast<bool>(h_); }
  bool done() const noexcept { return h_ && h_.done(); }
  handle_type handle() const noexcept { return h_; }

  struct awaiter {
    handle_type h;
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      h.promise().continuation = caller;
      if (!h.promise().stop) h.promise().stop = detail::stop_token_of(caller);
      return h;
    }
    T await_resume() { return h.promise().take(); }
  };

  awaiter operator co_await() && noexcept { return awaiter{h_}; }
  awaiter operator co_await() & noexcept { return awaiter{h_}; }

 private:
  void reset() noexcept {
    if (h_) h_.destroy();
    h_ = {};
  }
  handle_type h_{};
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}
}  // namespace detail

// The stop token of the calling task (a default, never-stopped token outside any).
struct current_stop_token_awaiter {
  const std::stop_token* token = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    token = detail::stop_token_of(h);
    return false;  // never actually suspends
  }
  std::stop_token await_resume() const noexcept { return token ? *token : std::stop_token{}; }
};
inline current_stop_token_awaiter current_stop_token() noexcept { return {}; }

// Same, but the pointer form used internally to chain cancellation without copying tokens.
struct current_stop_token_ptr_awaiter : current_stop_token_awaiter {
  const std::stop_token* await_resume() const noexcept { return token; }
};

}  // namespace torsion

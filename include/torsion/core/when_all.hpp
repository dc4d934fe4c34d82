#pragma once
// when_all: run tasks concurrently and wait for all of them. Results come back in argument order
// (void becomes std::monostate). If one throws, the others are asked to stop, all are waited for,
// and the first exception is rethrown.
#include <cstddef>
#include <exception>
#include <optional>
#include <stop_token>
#include <tuple>
#include <vector>

#include "torsion/core/detail/spawned.hpp"
#include "torsion/core/task.hpp"

namespace torsion {

namespace detail {

template <class T>
using non_void_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// Shared bookkeeping of one when_all/when_any: a stop source linked to the parent's token, a count
// of running children and the coroutine to resume when the last one finishes.
struct join_state {
  std::stop_source source;
  std::stop_token token = source.get_token();
  std::size_t running = 0;
  std::coroutine_handle<> waiter{};
  std::exception_ptr first_error;  // the first in time, not in argument order

  struct forward_stop {
    join_state* s;
    void operator()() const noexcept { s->source.request_stop(); }
  };
  std::optional<std::stop_callback<forward_stop>> parent_link;

  void link(const std::stop_token* parent) {
    if (parent && parent->stop_possible()) parent_link.emplace(*parent, forward_stop{this});
  }

  static std::coroutine_handle<> on_done(void* ctx) noexcept {
    auto* s = static_cast<join_state*>(ctx);
    if (--s->running == 0 && s->waiter) return s->waiter;
    return std::noop_coroutine();
  }

  template <class T>
  void start(task<T> t, outcome_box<T>* box) {
    ++running;
    run_into(std::move(t), box).start(&join_state::on_done, this, &token);
  }

  struct wait_awaiter {
    join_state& s;
    bool await_ready() const noexcept { return s.running == 0; }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
      s.waiter = h;
      return s.running != 0;
    }
    void await_resume() noexcept {}
  };
  wait_awaiter wait() noexcept { return {*this}; }
};

template <class T>
non_void_t<T> take_box(outcome_box<T>& b) {
  if constexpr (std::is_void_v<T>) {
    b.take();
    return {};
  } else {
    return b.take();
  }
}

// Children ask siblings to stop when they fail: wrap each in a task that does so. The first failure
// in time is kept: a sibling that then throws because it was cancelled must not hide the cause.
template <class T>
task<T> stop_siblings_on_error(task<T> t, join_state* s) {
  try {
    co_return co_await std::move(t);
  } catch (...) {
    if (!s->first_error) s->first_error = std::current_exception();
    s->source.request_stop();
    throw;
  }
}

}  // namespace detail

template <class... T>
task<std::tuple<detail::non_void_t<T>...>> when_all(task<T>... tasks) {
  detail::join_state state;
  state.link(co_await current_stop_token_ptr_awaiter{});
  std::tuple<detail::outcome_box<T>...> boxes;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (state.start(detail::stop_siblings_on_error(std::move(tasks), &state), &std::get<I>(boxes)), ...);
  }(std::index_sequence_for<T...>{});
  co_await state.wait();
  if (state.first_error) std::rethrow_exception(state.first_error);
  co_return std::apply([](auto&... b) { return std::tuple<detail::non_void_t<T>...>{detail::take_box(b)...}; }, boxes);
}

template <class T>
task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> when_all(std::vector<task<T>> tasks) {
  detail::join_state state;
  state.link(co_await current_stop_token_ptr_awaiter{});
  std::vector<detail::outcome_box<T>> boxes(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    state.start(detail::stop_siblings_on_error(std::move(tasks[i]), &state), &boxes[i]);
  }
  co_await state.wait();
  if (state.first_error) std::rethrow_exception(state.first_error);
  if constexpr (std::is_void_v<T>) {
    co_return;
  } else {
    std::vector<T> out;
    out.reserve(boxes.size());
    for (auto& b : boxes) out.push_back(b.take());
    co_return out;
  }
}

}  // namespace torsion

#pragma once
// when_any: run tasks concurrently; the first to finish wins. The others are asked to stop and
// are waited for before when_any returns, so nothing outlives the call. The result is a variant
// whose index is the winner (void becomes std::monostate). A winner's exception is rethrown; the
// losers' outcomes (usually operation_canceled) are discarded.
#include <cstddef>
#include <stdexcept>
#include <variant>
#include <vector>

#include "torsion/core/when_all.hpp"

namespace torsion {

namespace detail {
struct race {
  std::size_t winner = static_cast<std::size_t>(-1);
  std::stop_source* src;
};

template <class T>
task<T> report_first(task<T> t, race* r, std::size_t index) {
  struct on_exit {
    race* r;
    std::size_t i;
    ~on_exit() {
      if (r->winner == static_cast<std::size_t>(-1)) {
        r->winner = i;
        r->src->request_stop();
      }
    }
  } guard{r, index};
  co_return co_await std::move(t);
}
}  // namespace detail

template <class... T>
task<std::variant<detail::non_void_t<T>...>> when_any(task<T>... tasks) {
  static_assert(sizeof...(T) > 0);
  detail::join_state state;
  state.link(co_await current_stop_token_ptr_awaiter{});
  detail::race r{.winner = static_cast<std::size_t>(-1), .src = &state.source};
  std::tuple<detail::outcome_box<T>...> boxes;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (state.start(detail::report_first(std::move(tasks), &r, I), &std::get<I>(boxes)), ...);
  }(std::index_sequence_for<T...>{});
  co_await state.wait();
  using out_t = std::variant<detail::non_void_t<T>...>;
  std::optional<out_t> out;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((r.winner == I ? (void)out.emplace(std::in_place_index<I>, detail::take_box(std::get<I>(boxes))) : void()), ...);
  }(std::index_sequence_for<T...>{});
  co_return std::move(*out);
}

// Homogeneous form: returns the winner's index and value.
template <class T>
  requires(!std::is_void_v<T>)
task<std::pair<std::size_t, T>> when_any(std::vector<task<T>> tasks) {
  if (tasks.empty()) throw std::invalid_argument("torsion::when_any: no tasks to wait for");
  detail::join_state state;
  state.link(co_await current_stop_token_ptr_awaiter{});
  detail::race r{.winner = static_cast<std::size_t>(-1), .src = &state.source};
  std::vector<detail::outcome_box<T>> boxes(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) state.start(detail::report_first(std::move(tasks[i]), &r, i), &boxes[i]);
  co_await state.wait();
  co_return std::pair<std::size_t, T>{r.winner, boxes[r.winner].take()};
}

}  // namespace torsion

#pragma once
// with_timeout: bound an operation in time; on expiry the operation is cancelled and the result is
// timed_out. A single io_uring operation gets a linked timeout (one SQE more, no timer bookkeeping);
// a task races a timer on the given clock and is cancelled through its stop token, then waited for.
// A duration <= 0 is a deadline already passed, for both: timed_out at once, and the operation is
// not submitted (the task not started).
#include <type_traits>

#include "torsion/core/result.hpp"
#include "torsion/core/when_any.hpp"
#include "torsion/io/io_awaitable.hpp"
#include "torsion/time/sleep.hpp"

namespace torsion {

template <class Op>
detail::io_awaitable<Op> with_timeout(detail::io_awaitable<Op>&& op, clock_source::duration d) {
  op.set_timeout(d);
  return std::move(op);
}

namespace detail {
template <class T>
struct is_result : std::false_type {};
template <class T>
struct is_result<result<T>> : std::true_type {};

template <class T>
using timeout_result_t = std::conditional_t<is_result<T>::value, T, result<T>>;

inline task<result<void>> sleep_task(clock_source& c, clock_source::duration d) { co_return co_await sleep_for(c, d); }
}  // namespace detail

template <class T>
task<detail::timeout_result_t<T>> with_timeout(task<T> t, clock_source::duration d, clock_source& c) {
  if (d <= clock_source::duration::zero()) co_return failure(errc::timed_out);
  auto r = co_await when_any(std::move(t), detail::sleep_task(c, d));
  if (r.index() == 1) {
    // The timer won, unless it only finished because the caller itself was cancelled.
    if (std::get<1>(r)) co_return failure(errc::timed_out);
    co_return failure(errc::operation_canceled);
  }
  if constexpr (std::is_void_v<T>) {
    co_return success();
  } else {
    co_return std::move(std::get<0>(r));
  }
}

template <class T>
task<detail::timeout_result_t<T>> with_timeout(task<T> t, clock_source::duration d) {
  return with_timeout(std::move(t), d, real_clock::current());
}

}  // namespace torsion

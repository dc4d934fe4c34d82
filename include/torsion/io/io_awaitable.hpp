#pragma once
// The awaitable behind every single-shot io_uring operation. It reserves a slot (or queues until
// the ring has capacity), lets the operation fill the SQE, and resumes the coroutine exactly once,
// after the final CQE. A stop request from the awaiting task cancels in two phases: an
// ASYNC_CANCEL is submitted, and the coroutine resumes only at the terminal CQE, which says whether
// the operation was cancelled or completed anyway (a completed read keeps its bytes).
#include <chrono>
#include <coroutine>
#include <optional>
#include <stop_token>

#include "torsion/core/result.hpp"
#include "torsion/core/task.hpp"
#include "torsion/io/proactor.hpp"

namespace torsion::detail {

class io_awaiter_base {
 public:
  io_awaiter_base(const io_awaiter_base&) = delete;
  io_awaiter_base& operator=(const io_awaiter_base&) = delete;

  // Attach a linked timeout: the operation ends with timed_out if it is not done by then. A
  // duration <= 0 is a deadline already passed: timed_out at once, nothing is submitted.
  void set_timeout(std::chrono::nanoseconds d) noexcept {
    timeout_ = d;
    expired_ = d.count() <= 0;
  }

 protected:
  using prep_fn = void (*)(io_awaiter_base* self, io_uring_sqe* sqe, op_slot& slot);
  using copy_fn = void (*)(io_awaiter_base* self, const op_slot& slot);

  io_awaiter_base(proactor* px, prep_fn prep, copy_fn copy, bool user_memory) noexcept
      : px_(px), prep_(prep), copy_out_(copy), user_memory_(user_memory) {}
  ~io_awaiter_base();

  bool start(std::coroutine_handle<> h, const std::stop_token* stop);
  // The kernel's result as a value: errno codes, with cancellation and linked timeouts mapped to
  // operation_canceled and timed_out.
  result<int> raw_result() const noexcept;

 private:
  friend class torsion::proactor;
  enum class state : unsigned char { idle, waiting_capacity, in_flight, done };

  void submit_into(std::uint32_t idx);  // called by the proactor when capacity frees up
  void complete(op_slot& s) noexcept;
  void on_stop() noexcept;

  struct stop_fn {
    io_awaiter_base* self;
    void operator()() const noexcept { self->on_stop(); }
  };

 protected:
  proactor* px_;
  std::chrono::nanoseconds timeout_{0};
  bool expired_ = false;  // set_timeout(d <= 0)

 private:
  prep_fn prep_;
  copy_fn copy_out_;
  std::coroutine_handle<> waiter_{};
  std::uint64_t user_data_ = 0;
  std::optional<std::stop_callback<stop_fn>> stop_cb_;
  int res_ = 0;
  state state_ = state::idle;
  bool user_memory_;
  bool cancelled_ = false;
  bool timed_out_ = false;

 public:
  // Intrusive links for the proactor's capacity queue.
  io_awaiter_base* next_waiting = nullptr;
  io_awaiter_base* prev_waiting = nullptr;
};

// Op must provide: `void prep(io_uring_sqe*, op_slot&)`, `static constexpr bool user_memory`, and
// `R finish(result<int>, const op_slot* slot_or_null)` — the slot is passed only if the operation
// completed, for operations that read data back out of it (accept's peer address).
template <class Op>
class io_awaitable final : public io_awaiter_base {
 public:
  template <class... A>
  explicit io_awaitable(proactor& px, A&&... a)
      : io_awaiter_base(&px, &prep_thunk, &copy_thunk, Op::user_memory), op_{std::forward<A>(a)...} {}

  // Only an awaitable that has not been awaited yet may be moved (returned, stored, wrapped).
  io_awaitable(io_awaitable&& o) noexcept
      : io_awaiter_base(o.px_, &prep_thunk, &copy_thunk, Op::user_memory), op_(std::move(o.op_)) {
    timeout_ = o.timeout_;
    expired_ = o.expired_;
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return start(h, stop_token_of(h));
  }
  auto await_resume() { return op_.finish(raw_result()); }
  // For awaitables that wrap this one and already know the stop token.
  bool suspend_with(std::coroutine_handle<> h, const std::stop_token* stop) { return start(h, stop); }

  io_awaitable&& with_timeout(std::chrono::nanoseconds d) && noexcept {
    set_timeout(d);
    return std::move(*this);
  }

 private:
  static void prep_thunk(io_awaiter_base* self, io_uring_sqe* sqe, op_slot& s) {
    auto& op = static_cast<io_awaitable*>(self)->op_;
    if constexpr (requires { op.fd; }) s.fd = op.fd;  // so closing that socket knows it is busy
    op.prep(sqe, s);
  }
  static void copy_thunk(io_awaiter_base* self, const op_slot& s) {
    if constexpr (requires(Op& o) { o.copy_out(s); }) static_cast<io_awaitable*>(self)->op_.copy_out(s);
  }
  Op op_;
};

}  // namespace torsion::detail

#include "torsion/io/io_awaitable.hpp"

#include <cerrno>

namespace torsion::detail {

io_awaiter_base::~io_awaiter_base() {
  stop_cb_.reset();
  switch (state_) {
    case state::waiting_capacity: px_->remove_waiting(this); break;
    case state::in_flight:
      // The coroutine is being destroyed mid-operation. Its buffer goes with it, so the kernel
      // must be finished with that memory before we return.
      if (user_memory_) px_->abandon_op(user_data_);
      else px_->detach_op(user_data_);
      break;
    default: break;
  }
}

bool io_awaiter_base::start(std::coroutine_handle<> h, const std::stop_token* stop) {
  waiter_ = h;
  if (stop && stop->stop_requested()) {
    res_ = -ECANCELED;
    cancelled_ = true;
    state_ = state::done;
    return false;
  }
  if (expired_) {  // with_timeout(op, d <= 0): a deadline already passed, nothing is submitted
    res_ = -ETIME;
    timed_out_ = true;
    state_ = state::done;
    return false;
  }
  const unsigned weight = timeout_.count() > 0 ? 2 : 1;
  const std::uint32_t idx = px_->acquire_slot(weight);
  if (idx == npos32) {
    state_ = state::waiting_capacity;
    px_->enqueue_waiting(this);
  } else {
    submit_into(idx);
  }
  if (stop && stop->stop_possible()) stop_cb_.emplace(*stop, stop_fn{this});
  return state_ != state::done;
}

void io_awaiter_base::submit_into(std::uint32_t idx) {
  op_slot& s = px_->slot(idx);
  s.owner = this;
  s.pending_cqes = 1;
  user_data_ = make_user_data(idx, s.generation);
  if (timeout_.count() > 0) px_->reserve_sqes(2);
  io_uring_sqe* sqe = px_->get_sqe();
  prep_(this, sqe, s);
  px_->track_fd(s);
  io_uring_sqe_set_data64(sqe, user_data_);
  if (timeout_.count() > 0) {
    sqe->flags |= IOSQE_IO_LINK;
    s.link_ts.tv_sec = timeout_.count() / 1'000'000'000;
    s.link_ts.tv_nsec = timeout_.count() % 1'000'000'000;
    s.pending_cqes = 2;
    io_uring_sqe* link = px_->get_sqe();
    io_uring_prep_link_timeout(link, &s.link_ts, 0);
    io_uring_sqe_set_data64(link, user_data_ | link_bit);
  }
  state_ = state::in_flight;
}

void io_awaiter_base::complete(op_slot& s) noexcept {
  res_ = s.res;
  timed_out_ = s.timed_out;
  if (res_ >= 0) copy_out_(this, s);
  state_ = state::done;
}

void io_awaiter_base::on_stop() noexcept {
  // Runs inside request_stop(), possibly deep in another coroutine: never resume from here.
  switch (state_) {
    case state::waiting_capacity:
      px_->remove_waiting(this);
      res_ = -ECANCELED;
      cancelled_ = true;
      state_ = state::done;
      px_->post(waiter_);
      break;
    case state::in_flight:
      cancelled_ = true;
      px_->cancel_op(user_data_);
      break;
    default: break;
  }
}

result<int> io_awaiter_base::raw_result() const noexcept {
  if (res_ >= 0) return res_;
  if (res_ == -ECANCELED || res_ == -EINTR) {
    if (timed_out_) return failure(errc::timed_out);
    if (cancelled_ || res_ == -ECANCELED) return failure(errc::operation_canceled);
  }
  if (res_ == -ETIME && timed_out_) return failure(errc::timed_out);
  return failure(errno_code(-res_));
}

}  // namespace torsion::detail

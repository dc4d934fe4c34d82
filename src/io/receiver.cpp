#include "torsion/io/receiver.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace torsion {
namespace detail {

receiver::receiver(proactor& px, int fd) noexcept
    : px_(&px), ring_(&px.receive_buffers()), fd_(fd), limit_(std::max(px.config().recv_queue_limit, 1u)) {}

bool receiver::wants_more() const noexcept {
  return !armed_ud_ && !waiting && !eof_ && !error_ && !paused_ && !closed_ && count_ < limit_;
}

void receiver::arm() noexcept {
  if (ring_->kernel_selected()) {
    // One kernel pass can fill buffer after buffer while the socket has data, long before a
    // cancel could land. Where the kernel takes a byte cap (sqe->optlen, which shares
    // file_index's place; Linux 6.17), the multishot ends by itself once the queue would be full.
    const std::uint64_t room = std::uint64_t{limit_ - count_} * ring_->buffer_size();
    const std::uint32_t cap =
        px_->features().recv_multishot_cap ? static_cast<std::uint32_t>(std::min<std::uint64_t>(room, 0x7fffffff)) : 0;
    armed_ud_ = px_->start_callback_op(
        [this, cap](io_uring_sqe* sqe, op_slot& s) {
          io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
          sqe->flags |= IOSQE_BUFFER_SELECT;
          sqe->buf_group = buffer_ring::group_id;
          sqe->file_index = cap;
          s.fd = fd_;
        },
        &receiver::on_cqe, this, /*multishot=*/true, 1, /*internal=*/false, /*capped=*/false);
    return;
  }
  const std::uint16_t id = ring_->take();
  if (id == buffer_ring::none) {
    ring_->wait_for_buffer(this);
    return;
  }
  own_id_ = id;
  armed_ud_ = px_->start_callback_op(
      [this, id](io_uring_sqe* sqe, op_slot& s) {
        io_uring_prep_recv(sqe, fd_, ring_->data(id), ring_->buffer_size(), 0);
        s.fd = fd_;
        s.buffer_id = id;  // the proactor returns it if we go away first
      },
      &receiver::on_cqe, this, /*multishot=*/false, 1, /*internal=*/false, /*capped=*/false);
}

void receiver::on_buffer_available() noexcept {
  if (wants_more()) arm();
}

receive_awaiter* receiver::deliver(std::uint16_t id, std::uint32_t len) noexcept {
  if (waiter_ && count_ == 0) {  // straight to the task that waits
    receive_awaiter* a = unlink_waiter();
    a->buf_ = received_buffer(ring_, id, len);
    return a;
  }
  ring_->length(id) = len;
  ring_->next(id) = buffer_ring::none;
  if (tail_ != buffer_ring::none)
    ring_->next(tail_) = id;
  else
    head_ = id;
  tail_ = id;
  ++count_;
  if (count_ >= limit_ && armed_ud_) px_->cancel_op(armed_ud_);  // nobody is taking: stop reading
  return nullptr;
}

// The waiting task no longer belongs to this receiver, which may be gone before it resumes.
receive_awaiter* receiver::unlink_waiter() noexcept {
  receive_awaiter* a = std::exchange(waiter_, nullptr);
  a->stop_cb_.reset();
  a->r_ = nullptr;
  return a;
}

// The stream ended or failed: a waiter (there is one only if the queue is empty) learns it now.
receive_awaiter* receiver::end_waiter() noexcept {
  if (!waiter_ || count_ != 0) return nullptr;
  receive_awaiter* a = unlink_waiter();
  a->error_ = error_ ? errno_code(error_) : make_error_code(errc::connection_done);
  return a;
}

void receiver::on_cqe(void* ctx, int res, std::uint32_t flags) {
  auto* self = static_cast<receiver*>(ctx);
  const bool more = flags & IORING_CQE_F_MORE;
  if (!more) self->armed_ud_ = 0;
  std::uint16_t id = buffer_ring::none;
  if (flags & IORING_CQE_F_BUFFER)
    id = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
  else if (!more)
    id = std::exchange(self->own_id_, buffer_ring::none);

  receive_awaiter* wake = nullptr;
  bool no_buffers = false;
  if (res > 0 && id != buffer_ring::none) {
    wake = self->deliver(id, static_cast<std::uint32_t>(res));
  } else {
    if (id != buffer_ring::none) self->ring_->give_back(id);
    if (res == 0) {
      self->eof_ = true;
      wake = self->end_waiter();
    } else if (res == -ENOBUFS) {
      no_buffers = true;
    } else if (res == -EINVAL && self->px_->features().recv_multishot_cap) {
      self->px_->disable_recv_multishot_cap();  // an older kernel refused the byte cap: go without
    } else if (res < 0 && res != -ECANCELED) {  // cancelled: we paused it, or closed
      self->error_ = -res;
      wake = self->end_waiter();
    }
  }
  if (!more && self->wants_more()) {
    // Re-arm. After ENOBUFS, only once a buffer is back: the ring wakes us when one is returned.
    if (no_buffers && self->ring_->available() == 0)
      self->ring_->wait_for_buffer(self);
    else
      self->arm();
  }
  // Last: the resumed task may destroy this receiver.
  if (wake) self->px_->resume(wake->h_);
}

bool receiver::try_take(receive_awaiter& a) noexcept {
  if (count_ > 0) {
    const std::uint16_t id = head_;
    head_ = ring_->next(id);
    if (head_ == buffer_ring::none) tail_ = buffer_ring::none;
    --count_;
    a.buf_ = received_buffer(ring_, id, ring_->length(id));
    // Backpressure released: read again once half the queue has been taken.
    if (count_ <= limit_ / 2 && wants_more()) arm();
    return true;
  }
  if (error_) {
    a.error_ = errno_code(error_);
    return true;
  }
  if (eof_) {
    a.error_ = make_error_code(errc::connection_done);
    return true;
  }
  return false;
}

bool receiver::add_waiter(receive_awaiter& a, std::coroutine_handle<> h, const std::stop_token* stop) noexcept {
  if (stop_requested(stop)) {
    a.error_ = make_error_code(errc::operation_canceled);
    return false;
  }
  if (waiter_) {  // one receiver at a time
    a.error_ = make_error_code(errc::invalid_state);
    return false;
  }
  a.h_ = h;
  waiter_ = &a;
  if (wants_more()) arm();
  if (stop && stop->stop_possible()) a.stop_cb_.emplace(*stop, receive_awaiter::on_stop{&a});
  return true;
}

void receiver::remove_waiter(receive_awaiter& a) noexcept {
  if (waiter_ == &a) waiter_ = nullptr;
}

void receiver::pause() noexcept {
  paused_ = true;
  ring_->cancel_wait(this);
  if (armed_ud_) px_->cancel_op(armed_ud_);  // what is already in flight still arrives, queued
}

void receiver::resume() noexcept {
  paused_ = false;
  if (wants_more()) arm();
}

void receiver::close() noexcept {
  if (closed_) return;
  closed_ = true;
  if (armed_ud_) {
    px_->cancel_and_detach(std::exchange(armed_ud_, 0));
    own_id_ = buffer_ring::none;  // the slot owns it now
  }
  ring_->cancel_wait(this);
  while (head_ != buffer_ring::none) {
    const std::uint16_t id = head_;
    head_ = ring_->next(id);
    ring_->give_back(id);
  }
  tail_ = buffer_ring::none;
  count_ = 0;
  if (waiter_) {
    receive_awaiter* a = unlink_waiter();
    a->error_ = make_error_code(errc::operation_canceled);
    px_->post(a->h_);  // never resume from inside close()
  }
}

}  // namespace detail

bool receive_awaiter::await_ready() noexcept {
  if (!r_) {
    error_ = errno_code(EBADF);
    return true;
  }
  return r_->try_take(*this);
}

void receive_awaiter::on_stop::operator()() const noexcept {
  // Runs inside request_stop(): never resume from here. The multishot stays armed; what arrives
  // meanwhile is queued for the next receive().
  detail::receiver* r = self->r_;
  if (!r || r->waiter_ != self) return;
  r->waiter_ = nullptr;
  self->r_ = nullptr;  // the stop callback itself is destroyed in await_resume, not in here
  self->error_ = make_error_code(errc::operation_canceled);
  r->px_->post(self->h_);
}

}  // namespace torsion

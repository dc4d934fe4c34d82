#pragma once
// Zero-copy receiving for one socket: a multishot recv that selects buffers from the proactor's
// buffer_ring and hands them out as received_buffer, without copying.
//
//  - Completions that arrive while nobody awaits are queued (linked through the ring's per-buffer
//    links: no allocation). At `recv_queue_limit` queued buffers the multishot is cancelled
//    (backpressure: the rest waits in the socket), and it is re-armed once the queue is half
//    drained. pause() cancels it at once; nothing is re-armed until resume().
//  - When the multishot ends (no IORING_CQE_F_MORE) it is re-armed; after ENOBUFS only when a
//    buffer comes back (the ring wakes us), never on a timer or in a loop. No data is lost: the
//    kernel leaves what it could not place in the socket.
//  - Data queued before an error or the end of the stream is delivered first.
//  - Where the ring is not kernel-selected (old kernels), the same happens with single-shot recvs
//    into buffers taken from the pool.
//  - close() cancels and detaches the multishot: the proactor frees its slot at the final CQE and
//    recycles any buffer a late completion carries. Buffers the user holds stay valid until they
//    are released.
#include <coroutine>
#include <cstdint>
#include <optional>
#include <stop_token>

#include "torsion/core/frame_pool.hpp"
#include "torsion/core/result.hpp"
#include "torsion/core/task.hpp"
#include "torsion/io/buffer_ring.hpp"
#include "torsion/io/proactor.hpp"

namespace torsion {

class receive_awaiter;

namespace detail {

class receiver final : public buffer_ring::waiter {
 public:
  receiver(proactor& px, int fd) noexcept;
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  ~receiver() { close(); }

  // Per-connection state comes from the per-thread pool: no heap allocation per connection once warm.
  static void* operator new(std::size_t n) { return frame_pool::allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_pool::deallocate(p, n); }

  void pause() noexcept;
  void resume() noexcept;
  // Cancel everything (a waiting receive ends with operation_canceled). The socket may be closed
  // right after: the kernel holds its own reference until the cancel lands.
  void close() noexcept;

  std::size_t queued() const noexcept { return count_; }
  bool armed() const noexcept { return armed_ud_ != 0; }
  bool paused() const noexcept { return paused_; }

 private:
  friend class torsion::receive_awaiter;

  bool try_take(receive_awaiter& a) noexcept;
  bool add_waiter(receive_awaiter& a, std::coroutine_handle<> h, const std::stop_token* stop) noexcept;
  void remove_waiter(receive_awaiter& a) noexcept;

  bool wants_more() const noexcept;
  void arm() noexcept;
  void on_buffer_available() noexcept override;
  static void on_cqe(void* ctx, int res, std::uint32_t flags);
  receive_awaiter* deliver(std::uint16_t id, std::uint32_t len) noexcept;
  receive_awaiter* end_waiter() noexcept;
  receive_awaiter* unlink_waiter() noexcept;

  proactor* px_;
  buffer_ring* ring_;
  int fd_;
  unsigned limit_;
  std::uint64_t armed_ud_ = 0;
  std::uint16_t head_ = buffer_ring::none;
  std::uint16_t tail_ = buffer_ring::none;
  std::uint16_t own_id_ = buffer_ring::none;  // pool mode: the buffer the pending recv reads into
  std::uint32_t count_ = 0;
  int error_ = 0;  // errno that ended the stream, reported once the queue is drained
  bool eof_ = false;
  bool paused_ = false;
  bool closed_ = false;
  receive_awaiter* waiter_ = nullptr;
};

}  // namespace detail

// co_await stream.receive(): the next chunk of the stream in a ring buffer. connection_done at the
// end of the stream, operation_canceled when the awaiting task is stopped (data that arrives
// meanwhile stays queued, nothing is lost) or the stream is closed.
class receive_awaiter {
 public:
  explicit receive_awaiter(detail::receiver* r) noexcept : r_(r) {}
  receive_awaiter(const receive_awaiter&) = delete;
  receive_awaiter& operator=(const receive_awaiter&) = delete;
  ~receive_awaiter() {
    stop_cb_.reset();
    if (r_) r_->remove_waiter(*this);
  }

  bool await_ready() noexcept;
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    return r_->add_waiter(*this, h, detail::stop_token_of(h));
  }
  result<received_buffer> await_resume() noexcept {
    stop_cb_.reset();
    if (error_) return failure(error_);
    return std::move(buf_);
  }

 private:
  friend class detail::receiver;
  struct on_stop {
    receive_awaiter* self;
    void operator()() const noexcept;
  };
  detail::receiver* r_;
  std::coroutine_handle<> h_{};
  std::optional<std::stop_callback<on_stop>> stop_cb_;
  received_buffer buf_;
  std::error_code error_;
};

}  // namespace torsion

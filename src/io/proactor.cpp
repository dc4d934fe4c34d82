#include "torsion/io/proactor.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "ring_setup.hpp"
#include "torsion/io/buffer_ring.hpp"
#include "torsion/io/io_awaitable.hpp"

namespace torsion {
namespace {

thread_local proactor* tls_proactor = nullptr;

std::uint64_t this_thread_id() noexcept {
  return std::hash<std::thread::id>{}(std::this_thread::get_id());
}

}  // namespace

proactor* proactor::current() noexcept { return tls_proactor; }

proactor& proactor::current_or_throw() {
  if (!tls_proactor)
    throw std::system_error(make_error_code(errc::invalid_state), "torsion: no proactor on this thread (create one first)");
  return *tls_proactor;
}

proactor* proactor::set_current_proactor(proactor* p) noexcept {
  proactor* old = tls_proactor;
  tls_proactor = p;
  return old;
}

result<std::unique_ptr<proactor>> proactor::create(const proactor_config& cfg) {
  auto ring = detail::setup_ring(cfg);
  if (!ring) return ring.error();
  auto px = std::make_unique<proactor>(private_tag{}, ring.value().ring, ring.value().features, cfg);
  px->init_after_setup();
  return px;
}

proactor::proactor(const proactor_config& cfg) {
  auto ring = detail::setup_ring(cfg);
  if (!ring) throw std::system_error(ring.error(), "torsion: cannot start the io_uring proactor");
  ring_ = ring.value().ring;
  features_ = ring.value().features;
  cfg_ = cfg;
  init_after_setup();
}

proactor::proactor(private_tag, io_uring ring, ring_features f, const proactor_config& cfg)
    : ring_(ring), features_(f), cfg_(cfg) {}

void proactor::init_after_setup() {
  owner_thread_ = this_thread_id();
  // The CQ holds one entry per receive buffer (multishot completions are bounded by them); of the
  // rest, half for operations and half as headroom for their cancel requests and linked timeouts.
  op_capacity_ = detail::op_cq_entries(cfg_) / 2;
  ready_.reserve(64);
  running_.reserve(64);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno_code(errno), "torsion: eventfd");
  initialized_ = true;
  // The first proactor on a thread becomes its current one, so sleep_for and friends find it.
  if (!tls_proactor) {
    set_current_proactor(this);
    exchange_current(this);
  }
  arm_wakeup();
}

proactor::~proactor() {
  if (!initialized_) return;
  shutdown_ring();
  services_.clear();
  buffers_.reset();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  io_uring_queue_exit(&ring_);
  if (tls_proactor == this) {
    set_current_proactor(nullptr);
    if (scheduler::current() == this) exchange_current(nullptr);
  }
}

// Cancel everything still in flight and reap until the kernel has finished with every slot, so
// that no buffer or slot is freed under it. Owners are not called back: they are being torn down.
void proactor::shutdown_ring() noexcept {
  for (std::uint32_t i = 0; i < slot_count_; ++i) {
    detail::op_slot& s = slot(i);
    if (s.in_use) {
      s.detached = true;
      s.owner = nullptr;
    }
  }
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, detail::ignore_user_data);
  for (int rounds = 0; units_in_flight_ + open_ended_in_flight_ > 0 && rounds < 10000; ++rounds) {
    __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 10'000'000};
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    reap_deferred();
  }
}

bool proactor::on_owner_thread() const noexcept { return owner_thread_ == this_thread_id(); }

buffer_ring& proactor::receive_buffers() {
  if (!buffers_) {
    // Kernel-selected buffers need multishot recv too (6.0); 5.19 had the ring alone.
    const bool kernel = cfg_.use_buffer_ring && features_.recv_multishot;
    buffers_ = std::make_unique<buffer_ring>(ring_, cfg_.recv_buffers, cfg_.recv_buffer_size, kernel);
    features_.buffer_ring = buffers_->kernel_selected();
  }
  return *buffers_;
}

std::uint32_t proactor::acquire_slot(unsigned weight, bool internal, bool capped) {
  if (capped && !internal && units_in_flight_ + weight > op_capacity_) return detail::npos32;
  if (free_head_ == detail::npos32) {
    // Grow by one chunk; chunks never move, so slot references stay valid.
    const std::uint32_t base = slot_count_;
    slots_.emplace_back(std::make_unique<detail::op_slot[]>(chunk_mask + 1));
    for (std::uint32_t i = chunk_mask + 1; i-- > 0;) {
      slots_.back()[i].next_free = free_head_;
      free_head_ = base + i;
    }
    slot_count_ += chunk_mask + 1;
  }
  const std::uint32_t idx = free_head_;
  detail::op_slot& s = slot(idx);
  free_head_ = s.next_free;
  s.in_use = true;
  s.detached = s.cancel_requested = s.timed_out = s.multishot = false;
  s.res = 0;
  s.flags = 0;
  s.fd = -1;
  s.buffer_id = buffer_ring::none;
  s.owner = nullptr;
  s.on_cqe = nullptr;
  s.ctx = nullptr;
  // Uncapped operations (multishot recvs) must not use up the capacity of capped ones: counted
  // apart, still waited for at shutdown.
  s.weight = static_cast<std::uint16_t>(weight | (internal ? internal_bit : 0) | (capped ? 0 : uncapped_bit));
  if (capped)
    units_in_flight_ += weight;
  else
    open_ended_in_flight_ += weight;
  if (!internal) ++user_in_flight_;
  return idx;
}

void proactor::release_slot(std::uint32_t idx) noexcept {
  detail::op_slot& s = slot(idx);
  const bool internal = s.weight & internal_bit;
  const unsigned weight = s.weight & weight_mask;
  if (s.weight & uncapped_bit)
    open_ended_in_flight_ -= weight;
  else
    units_in_flight_ -= weight;
  if (!internal) --user_in_flight_;
  if (s.fd >= 0) --fd_ops_[s.fd];
  s.in_use = false;
  s.owner = nullptr;
  s.on_cqe = nullptr;
  ++s.generation;
  s.next_free = free_head_;
  free_head_ = idx;
}

io_uring_sqe* proactor::get_sqe() {
  for (;;) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
    flush_submissions();  // SQ full: hand what we have to the kernel
  }
}

void proactor::flush_submissions() {
  if (io_uring_sq_ready(&ring_) == 0) return;
  for (;;) {
    const int r = io_uring_submit(&ring_);
    ++submit_calls_;
    if (r != -EBUSY && r != -EAGAIN) return;
    // The kernel wants its completions reaped first; doing so deferred makes room without
    // resuming anyone from inside this call.
    io_uring_get_events(&ring_);
    reap_deferred();
  }
}

void proactor::reap_deferred() {
  ++deferring_;
  reap();
  --deferring_;
}

void proactor::cancel_op(std::uint64_t ud) {
  const std::uint32_t idx = static_cast<std::uint32_t>(ud & detail::index_mask);
  if (idx >= slot_count_) return;
  detail::op_slot& s = slot(idx);
  if (!s.in_use || s.generation != (ud >> 32) || s.cancel_requested) return;
  s.cancel_requested = true;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    flush_submissions();
    sqe = io_uring_get_sqe(&ring_);
  }
  if (!sqe) {
    pending_cancels_.push_back(ud);  // retried at the next loop turn, never dropped
    return;
  }
  io_uring_prep_cancel64(sqe, ud, 0);
  io_uring_sqe_set_data64(sqe, detail::ignore_user_data);
}

void proactor::retry_cancels() {
  if (pending_cancels_.empty()) return;
  auto todo = std::move(pending_cancels_);
  pending_cancels_.clear();
  for (std::uint64_t ud : todo) {
    const std::uint32_t idx = static_cast<std::uint32_t>(ud & detail::index_mask);
    slot(idx).cancel_requested = false;
    cancel_op(ud);
  }
}

void proactor::detach_op(std::uint64_t ud) noexcept {
  const std::uint32_t idx = static_cast<std::uint32_t>(ud & detail::index_mask);
  if (idx >= slot_count_) return;
  detail::op_slot& s = slot(idx);
  if (!s.in_use || s.generation != (ud >> 32)) return;
  s.detached = true;
  s.owner = nullptr;
  s.on_cqe = nullptr;
}

void proactor::cancel_and_detach(std::uint64_t ud) noexcept {
  cancel_op(ud);
  detach_op(ud);
  const std::uint32_t idx = static_cast<std::uint32_t>(ud & detail::index_mask);
  if (idx >= slot_count_) return;
  detail::op_slot& s = slot(idx);
  if (!s.in_use || s.generation != (ud >> 32) || s.fd < 0) return;
  --fd_ops_[s.fd];  // cancelled already: closing its socket needs no cancel_fd on its account
  s.fd = -1;
}

void proactor::recycle_buffers(detail::op_slot& s, std::uint32_t flags) noexcept {
  if (flags & IORING_CQE_F_BUFFER) buffers_->give_back(static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
  if (s.buffer_id != buffer_ring::none) buffers_->give_back(std::exchange(s.buffer_id, buffer_ring::none));
}

void proactor::abandon_op(std::uint64_t ud) {
  detach_op(ud);
  const std::uint32_t idx = static_cast<std::uint32_t>(ud & detail::index_mask);
  detail::op_slot& s = slot(idx);
  if (!s.in_use || s.generation != (ud >> 32)) return;
  flush_submissions();  // a request still in the SQ cannot be found by a cancel
  if (features_.sync_cancel && !cfg_.force_async_abandon) {
    io_uring_sync_cancel_reg reg{};
    reg.addr = ud;
    reg.timeout.tv_sec = -1;
    reg.timeout.tv_nsec = -1;
    const int r = io_uring_register_sync_cancel(&ring_, &reg);
    // 0: cancelled; -ENOENT: already finished. Either way the kernel is done with the memory.
    // The CQE still comes and frees the slot.
    if (r == 0 || r == -ENOENT || r == -EALREADY) return;
  }
  // Fallback: ask, then reap until the final CQE, queuing other completions for later.
  cancel_op(ud);
  while (s.in_use && s.generation == (ud >> 32)) {
    flush_submissions();
    io_uring_submit_and_wait(&ring_, 1);
    reap_deferred();
  }
}

void proactor::cancel_fd(int fd) noexcept {
  ++fd_cancels_;
  flush_submissions();
  if (features_.sync_cancel) {
    io_uring_sync_cancel_reg reg{};
    reg.fd = fd;
    reg.flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
    reg.timeout.tv_sec = -1;
    reg.timeout.tv_nsec = -1;
    io_uring_register_sync_cancel(&ring_, &reg);
    return;
  }
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, detail::ignore_user_data);
  flush_submissions();
}

void proactor::enqueue_waiting(detail::io_awaiter_base* a) noexcept {
  a->next_waiting = nullptr;
  a->prev_waiting = waiting_tail_;
  if (waiting_tail_) waiting_tail_->next_waiting = a;
  else waiting_head_ = a;
  waiting_tail_ = a;
  ++waiting_count_;
}

void proactor::remove_waiting(detail::io_awaiter_base* a) noexcept {
  if (a->prev_waiting) a->prev_waiting->next_waiting = a->next_waiting;
  else waiting_head_ = a->next_waiting;
  if (a->next_waiting) a->next_waiting->prev_waiting = a->prev_waiting;
  else waiting_tail_ = a->prev_waiting;
  a->next_waiting = a->prev_waiting = nullptr;
  --waiting_count_;
}

void proactor::submit_waiting() {
  while (waiting_head_) {
    detail::io_awaiter_base* a = waiting_head_;
    const unsigned weight = a->timeout_.count() > 0 ? 2 : 1;
    const std::uint32_t idx = acquire_slot(weight);
    if (idx == detail::npos32) return;
    remove_waiting(a);
    a->submit_into(idx);
  }
}

void proactor::resume(std::coroutine_handle<> h) {
  if (deferring_) ready_.push_back(h);
  else h.resume();
}

void proactor::post(std::coroutine_handle<> h) { ready_.push_back(h); }

void proactor::post_from_any_thread(std::function<void()> fn) {
  {
    std::lock_guard lock(remote_mutex_);
    remote_.push_back(std::move(fn));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void proactor::arm_wakeup() {
  start_callback_op(
      [this](io_uring_sqe* sqe, detail::op_slot&) { io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0); },
      [](void* ctx, int, std::uint32_t) {
        auto* self = static_cast<proactor*>(ctx);
        self->drain_remote();
        self->arm_wakeup();
      },
      this, false, 1, true);
}

void proactor::drain_remote() {
  {
    std::lock_guard lock(remote_mutex_);
    remote_running_.swap(remote_);
  }
  for (auto& fn : remote_running_) fn();
  remote_running_.clear();
}

bool proactor::run_ready() {
  if (ready_.empty()) return false;
  // Swap so that coroutines posted while we run wait for the next turn (fairness, bounded work).
  running_.swap(ready_);
  for (std::size_t i = 0; i < running_.size(); ++i) running_[i].resume();
  running_.clear();
  return true;
}

void proactor::run_once() {
  current_scope scope(*this);
  // A turn that already made progress must not block: the caller's task may be done.
  const bool progressed = run_ready();
  retry_cancels();
  submit_waiting();
  if (progressed || !ready_.empty()) {
    if (ready_.empty() && io_uring_sq_ready(&ring_) == 0) {
      // Nothing new for the kernel and nobody ready: take what is already in the CQ without a
      // syscall; if that is nothing, the next turn blocks. Saves an io_uring_enter per ping-pong.
      reap();
      return;
    }
    io_uring_submit_and_get_events(&ring_);
  } else {
    if (user_in_flight_ == 0 && waiting_count_ == 0 && external_pending_ == 0 && pending_cancels_.empty()) {
      // Nothing can ever wake us: a task is waiting on something that is not an operation.
      throw std::logic_error("torsion::proactor: deadlock, a task is suspended with no operation in flight");
    }
    io_uring_submit_and_wait(&ring_, 1);
  }
  ++submit_calls_;
  reap();
}

void proactor::reap() {
  std::array<io_uring_cqe*, 256> batch;
  std::array<std::uint64_t, 256> uds;
  std::array<int, 256> res;
  std::array<std::uint32_t, 256> flags;
  for (;;) {
    const unsigned n = io_uring_peek_batch_cqe(&ring_, batch.data(), batch.size());
    if (n == 0) return;
    // Copy out and advance before dispatching: a resumed coroutine may re-enter the proactor.
    for (unsigned i = 0; i < n; ++i) {
      uds[i] = io_uring_cqe_get_data64(batch[i]);
      res[i] = batch[i]->res;
      flags[i] = batch[i]->flags;
    }
    io_uring_cq_advance(&ring_, n);
    for (unsigned i = 0; i < n; ++i) dispatch(uds[i], res[i], flags[i]);
    if (n < batch.size()) return;
  }
}

void proactor::dispatch(std::uint64_t ud, int res, std::uint32_t flags) {
  if (ud == detail::ignore_user_data) return;
  const std::uint32_t idx = static_cast<std::uint32_t>(ud & detail::index_mask);
  const bool is_link = ud & detail::link_bit;
  if (idx >= slot_count_) {
    ++stale_cqes_;
    return;
  }
  detail::op_slot& s = slot(idx);
  if (!s.in_use || s.generation != (ud >> 32)) {
    ++stale_cqes_;
    return;
  }
  if (!is_link && (flags & IORING_CQE_F_BUFFER)) buffers_->note_taken();
  if (is_link) {
    if (res == -ETIME) s.timed_out = true;
  } else if (s.multishot && (flags & IORING_CQE_F_MORE)) {
    if (!s.detached && s.on_cqe) s.on_cqe(s.ctx, res, flags);
    else if (flags & IORING_CQE_F_BUFFER)
      recycle_buffers(s, flags);
    return;
  } else {
    s.res = res;
    s.flags = flags;
  }
  if (--s.pending_cqes > 0) return;

  if (s.detached) {
    if ((s.flags & IORING_CQE_F_BUFFER) || s.buffer_id != buffer_ring::none) recycle_buffers(s, s.flags);
    release_slot(idx);
  } else if (detail::io_awaiter_base* aw = s.owner) {
    aw->complete(s);
    release_slot(idx);
    resume(aw->waiter_);
  } else {
    auto fn = s.on_cqe;
    void* ctx = s.ctx;
    const int r = s.res;
    const std::uint32_t f = s.flags;
    release_slot(idx);
    if (fn) fn(ctx, r, f);
  }
}

}  // namespace torsion
